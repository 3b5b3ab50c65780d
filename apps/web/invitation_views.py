"""The page an invitation's link opens: the invitee sets a password, which makes their user
(apps/tenancy/invitations.py), and lands signed in on their role's first page. A link that is
expired, used, withdrawn or not an invitation's gets a page that says so, and nothing else."""

from django.conf import settings
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from apps.tenancy import invitations
from ledgerx.errors import LedgerXError

from .access import landing_url
from .forms import InvitationAcceptForm

# Gone for a link that was an invitation's and no longer works; Not Found for one that never was.
REFUSED_STATUS = {"invalid": 404, "expired": 410, "used": 410, "revoked": 410, "inviter_gone": 410}


def _refused(request, reason: str):
    return render(
        request,
        "web/invitation_refused.html",
        {"page_title": "Invitation not valid", "message": invitations.REFUSALS[reason]},
        status=REFUSED_STATUS[reason],
    )


@never_cache
def invitation_accept(request, token: str):
    try:
        invitation = invitations.invitation_for_token(token)
    except invitations.InvitationRefused as refusal:
        return _refused(request, refusal.reason)
    form = InvitationAcceptForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        status = 400
        if form.is_valid():
            try:
                user = invitations.invitation_accept(token=token, password=form.cleaned_data["password"])
            except invitations.InvitationRefused as refusal:
                return _refused(request, refusal.reason)
            except LedgerXError as error:
                form.add_error(
                    "password" if "password" in error.fields else None, error.fields.get("password") or error.message
                )
            else:
                login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])  # the password backend
                return redirect(landing_url(user))
    context = {"page_title": "Join LedgerX", "invitation": invitation, "form": form}
    return render(request, "web/invitation_accept.html", context, status=status)

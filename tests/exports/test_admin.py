"""The books exports page of the back office: months with their download links, the API's bytes."""

from tests.conftest import client_for
from tests.factories import signed_in_client

from .conftest import MONTH

PAGE = "/admin/exports/booksexport/"


def test_finance_lists_a_month_and_downloads_the_apis_bytes(books):
    client = signed_in_client(books.tenant.finance)
    page = client.get(PAGE, {"month": MONTH})
    assert page.status_code == 200
    link = f"{PAGE}download/netsuite/{MONTH}/csv/"
    assert link in page.content.decode() and "NetSuite journal entries" in page.content.decode()
    downloaded = client.get(link)
    api = client_for(books.tenant.finance).get("/api/v1/exports/netsuite", {"month": MONTH})
    assert b"".join(downloaded.streaming_content) == b"".join(api.streaming_content)
    sidecar = client.get(f"{PAGE}download/netsuite/{MONTH}/csv.sha256/")
    assert sidecar.content.decode().endswith(f"-netsuite-{MONTH}.csv\n")


def test_the_page_lists_the_last_twelve_months_and_refuses_bad_links(books):
    client = signed_in_client(books.tenant.admin)
    assert client.get(PAGE).content.decode().count("/download/journal/") == 12 * 4
    assert client.get(f"{PAGE}download/journal/2025-3/csv/").status_code == 404
    assert client.get(f"{PAGE}download/journal/{MONTH}/pdf/").status_code == 404


def test_an_employee_cannot_reach_the_page_or_a_download(books):
    client = signed_in_client(books.tenant.employee)
    assert client.get(PAGE).status_code == 302
    assert client.get(f"{PAGE}download/journal/{MONTH}/csv/").status_code == 302

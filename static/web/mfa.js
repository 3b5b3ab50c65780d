/* Sign-in security: once the WebAuthn plugin's script has stored a new passkey, show the page again with it. */
(function () {
  "use strict";
  document.addEventListener("otp_webauthn.register_complete", function () {
    window.location.reload();
  });
})();

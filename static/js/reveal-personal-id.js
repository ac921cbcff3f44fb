"use strict";
// "Show the full number" on a recipient's page (beneficiaries/admin.py, personal_id_view).
// A file, not an inline script: the Content-Security-Policy allows only these.
// The server records every reveal in the audit trail.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-reveal-target]");
  if (!link) {
    return;
  }
  event.preventDefault();
  fetch(link.href, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then((data) => {
      document.getElementById(link.dataset.revealTarget).textContent = data.personal_id;
      link.remove();
    })
    .catch(() => {
      link.textContent = link.dataset.revealError;
    });
});

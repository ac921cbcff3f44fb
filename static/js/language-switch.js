// The language switch in the admin header sends its form as soon as a language is chosen.
// A file rather than an onchange attribute: the Content-Security-Policy allows no inline script.
document.addEventListener("DOMContentLoaded", () => {
  const select = document.getElementById("language-select");
  if (select) {
    select.addEventListener("change", () => select.form.submit());
  }
});

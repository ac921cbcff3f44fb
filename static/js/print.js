// Buttons marked data-action="print" print the page (the hand-over minutes).
// A file rather than an onclick attribute: the Content-Security-Policy allows no inline script.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-action='print']")) {
    button.addEventListener("click", () => window.print());
  }
});

// Progressive enhancement only: the site works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Move focus to the error summary of a form that failed, so screen readers announce it.
  const summary = document.querySelector("[data-autofocus]");
  if (summary) summary.focus();

  // Buttons that ask for confirmation before a destructive POST.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // Open the FAQ answer named in the address bar.
  if (window.location.hash) {
    const target = document.getElementById(window.location.hash.slice(1));
    if (target && target.tagName === "DETAILS") target.open = true;
  }
});

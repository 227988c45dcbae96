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

  // Arrow keys move between the days of a slot calendar that have open slots (a week is seven cells).
  document.querySelectorAll("[data-calendar]").forEach((grid) => {
    const cells = Array.from(grid.querySelectorAll("td"));
    grid.addEventListener("keydown", (event) => {
      const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 }[event.key];
      const link = event.target.closest("a.day");
      if (!steps || !link) return;
      let index = cells.indexOf(link.closest("td")) + steps;
      while (index >= 0 && index < cells.length) {
        const next = cells[index].querySelector("a.day");
        if (next) { next.focus(); event.preventDefault(); return; }
        index += Math.abs(steps) === 7 ? steps : Math.sign(steps);
      }
    });
  });

  // Open the FAQ answer named in the address bar.
  if (window.location.hash) {
    const target = document.getElementById(window.location.hash.slice(1));
    if (target && target.tagName === "DETAILS") target.open = true;
  }
});

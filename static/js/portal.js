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

  // A slot calendar is one stop for Tab (the chosen day, else the first with open slots); arrow keys move between
  // the days that have open slots (a week is seven cells). Without this file every day is a link of its own.
  const setUpCalendars = () => {
    document.querySelectorAll("[data-calendar]").forEach((grid) => {
      const cells = Array.from(grid.querySelectorAll("td"));
      const days = Array.from(grid.querySelectorAll("a.day"));
      if (!days.length) return;
      const current = grid.querySelector("a.day[aria-current]") || days[0];
      days.forEach((day) => day.setAttribute("tabindex", day === current ? "0" : "-1"));
      grid.addEventListener("keydown", (event) => {
        const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 }[event.key];
        const link = event.target.closest("a.day");
        if (!steps || !link) return;
        let index = cells.indexOf(link.closest("td")) + steps;
        while (index >= 0 && index < cells.length) {
          const next = cells[index].querySelector("a.day");
          if (next) {
            days.forEach((day) => day.setAttribute("tabindex", day === next ? "0" : "-1"));
            next.focus();
            event.preventDefault();
            return;
          }
          index += Math.abs(steps) === 7 ? steps : Math.sign(steps);
        }
      });
    });
  };
  setUpCalendars();

  // Choosing a day or a month in the slot browser updates the calendar and the times in place (the same page,
  // fetched and cut out), keeps the address, and moves focus to the day's first time or back to the month button.
  // Any failure falls back to loading the page as a link does.
  const browser = document.querySelector("[data-slot-browser]");
  if (browser && window.fetch && window.DOMParser && window.history.pushState) {
    const regions = ["slot-calendar", "slot-times", "next-available", "filter-day-field"];
    const show = async (url, kind, remember) => {
      browser.setAttribute("aria-busy", "true");
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
        if (!response.ok || response.redirected) throw new Error("not the slot browser");
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        if (!regions.every((id) => fresh.getElementById(id))) throw new Error("not the slot browser");
        regions.forEach((id) => document.getElementById(id).replaceWith(fresh.getElementById(id)));
        document.title = fresh.title;
        if (remember) window.history.pushState({ slotBrowser: true }, "", url);
        setUpCalendars();
        const target = kind === "day"
          ? document.querySelector("#slot-times .slot-list a, #slot-times .slot-list button") ||
            document.getElementById("times-title")
          : document.querySelector(`[data-in-place="${kind}"]`) || document.getElementById("calendar-title");
        target.focus();
      } catch (error) {
        window.location.assign(url);
      } finally {
        browser.removeAttribute("aria-busy");
      }
    };
    browser.addEventListener("click", (event) => {
      const link = event.target.closest("a[data-in-place]");
      if (!link || event.defaultPrevented || event.button !== 0) return;
      if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
      event.preventDefault();
      show(link.href, link.dataset.inPlace, true);
    });
    window.history.replaceState({ slotBrowser: true }, "", window.location.href);
    window.addEventListener("popstate", (event) => {
      if (event.state && event.state.slotBrowser) show(window.location.href, "day", false);
    });
  }

  // Open the FAQ answer named in the address bar.
  if (window.location.hash) {
    const target = document.getElementById(window.location.hash.slice(1));
    if (target && target.tagName === "DETAILS") target.open = true;
  }
});

// Tabs of the group page on narrow screens (Diskussion, Info, Mitglieder), after the
// ARIA tabs pattern: arrow keys move between tabs, the chosen one shows its panel.
// Wide screens show every panel side by side and hide the tab bar (CSS).

export function initTabs(scope) {
  for (const bar of scope.querySelectorAll("[role=tablist][data-tabs]")) {
    if (bar.dataset.ready) continue;
    bar.dataset.ready = "true";
    const tabs = Array.from(bar.querySelectorAll("[role=tab]"));
    const select = (chosen, focus) => {
      for (const tab of tabs) {
        const current = tab === chosen;
        tab.setAttribute("aria-selected", String(current));
        tab.tabIndex = current ? 0 : -1;
        document.getElementById(tab.getAttribute("aria-controls"))?.classList.toggle("is-current", current);
      }
      if (focus) chosen.focus();
    };
    for (const tab of tabs) {
      tab.addEventListener("click", () => select(tab, false));
      tab.addEventListener("keydown", (event) => {
        const index = tabs.indexOf(tab);
        const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
        if (next === undefined) return;
        event.preventDefault();
        select(tabs[(next + tabs.length) % tabs.length], true);
      });
    }
    select(tabs.find((tab) => tab.getAttribute("aria-selected") === "true") || tabs[0], false);
    // A link to something on another tab ("Beitritt anfragen" on the Diskussion tab
    // points at #membership-box on Info) shows that tab first; the browser then scrolls.
    document.addEventListener("click", (event) => {
      const link = event.target.closest?.('a[href^="#"]');
      const target = link && link.getAttribute("href").length > 1 ? document.getElementById(link.getAttribute("href").slice(1)) : null;
      const panel = target?.closest("[role=tabpanel]");
      const tab = panel && tabs.find((candidate) => candidate.getAttribute("aria-controls") === panel.id);
      if (tab) select(tab, false);
    });
    const first = document.getElementById(tabs[0]?.getAttribute("aria-controls") || "");
    first?.closest("[data-tabs-root]")?.classList.add("has-tabs");
  }
}

// The group page's open questions (engagement): each one listed in "Offene Fragen" is
// marked in the discussion, and a link to a message (#nachricht-<conversation>-<seq>,
// from the box, the start page or an e-mail) scrolls to it once the panel has it.

const box = document.getElementById("open-questions");
const panel = document.getElementById("chat-panel");

function openIds() {
  return new Set(
    [...(box?.querySelectorAll("[data-open-question]") || [])].map((a) => a.dataset.openQuestion),
  );
}

function mark() {
  if (!panel) return;
  const ids = openIds();
  for (const node of panel.querySelectorAll(".chat-message[data-id]")) {
    const open = ids.has(node.dataset.id);
    node.classList.toggle("is-open-question", open);
    const meta = node.querySelector(".chat-meta");
    let pill = meta?.querySelector(".open-question-pill");
    if (open && meta && !pill) {
      pill = document.createElement("span");
      pill.className = "pill pill-accent open-question-pill";
      pill.textContent = "Offene Frage";
      meta.append(pill);
    } else if (!open && pill) {
      pill.remove();
    }
  }
  const target = location.hash.startsWith("#nachricht-") ? document.getElementById(location.hash.slice(1)) : null;
  if (target && !target.dataset.scrolledTo) {
    target.dataset.scrolledTo = "true";
    target.scrollIntoView({ block: "center" });
  }
}

if (panel) {
  new MutationObserver(mark).observe(panel, { childList: true, subtree: true });
  window.addEventListener("hashchange", mark);
  mark();
}

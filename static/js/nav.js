// The collapsing navigation on narrow screens (loaded for everyone, also signed out).
document.documentElement.classList.add("js");

const toggle = document.querySelector(".nav-toggle");
const nav = document.getElementById("hauptnavigation");

if (toggle && nav) {
  const setOpen = (open) => {
    nav.classList.toggle("is-open", open);
    toggle.setAttribute("aria-expanded", String(open));
  };
  toggle.addEventListener("click", () => setOpen(!nav.classList.contains("is-open")));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && nav.classList.contains("is-open")) {
      setOpen(false);
      toggle.focus();
    }
  });
}

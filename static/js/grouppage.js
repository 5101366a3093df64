// The group page of someone waiting for a decision: when the admins approve or decline
// (a `join_approved` / `join_declined` notification for this group), the page is
// fetched again and its main part swapped in place, so the discussion appears at once
// instead of "Ihre Beitrittsanfrage wartet…" until a reload. The same when the owners
// or admins remove the person (`member_removed`): the page stops saying "Ihre Rolle in
// dieser Gruppe: Mitglied" and shows it as a non-member sees it (docs/groups.md).

const REFRESHING_KINDS = new Set(["join_approved", "join_declined", "member_removed"]);

export function watchGroupPage(connection, mount) {
  const page = document.querySelector("[data-group-page]");
  if (!page) return;
  const slug = page.dataset.groupPage;
  connection.on("notification", (frame) => {
    if (!REFRESHING_KINDS.has(frame.kind)) return;
    const data = frame.data || {};
    const about = data.group && typeof data.group === "object" ? data.group.slug : data.group_slug;
    if (about === slug) refresh(mount);
  });
}

async function refresh(mount) {
  let response;
  try {
    response = await fetch(location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } });
  } catch {
    return;
  }
  if (!response.ok) return;
  // Our own server-rendered page (escaped by Django), parsed inert and adopted.
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("inhalt");
  const main = document.getElementById("inhalt");
  if (!fresh || !main) return;
  const nodes = Array.from(fresh.childNodes); // a copy: adopting empties the live list
  main.replaceChildren(...nodes.map((node) => document.adoptNode(node)));
  mount(main);
}

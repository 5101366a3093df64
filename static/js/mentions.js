// @-mention autocomplete for the composer: a listbox of the group's members.

import { api } from "./api.js";

const MAX_OPTIONS = 8;
const MAX_PAGES = 5;
const QUERY_PATTERN = /(?:^|\s)@([^@\n]{0,40})$/;

function nameOf(item) {
  if (typeof item === "string") return item;
  return item?.display_name || item?.user?.display_name || item?.name || "";
}

export class MentionAutocomplete {
  constructor(input, form, root, me) {
    this.input = input;
    this.root = root;
    this.me = me;
    this.names = null;
    this.loading = null;
    this.options = [];
    this.active = -1;
    this.list = document.createElement("ul");
    this.list.className = "mention-list";
    this.list.id = `${input.id}-erwaehnungen`;
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", "Personen erwähnen");
    this.list.hidden = true;
    form.append(this.list);
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", this.list.id);
    input.setAttribute("aria-expanded", "false");
    input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
  }

  async loadNames() {
    if (this.names) return this.names;
    if (!this.loading) this.loading = this.fetchNames();
    this.names = await this.loading;
    return this.names;
  }

  async fetchNames() {
    const inline = this.root.dataset.members;
    if (inline) {
      try {
        return this.clean(JSON.parse(inline).map(nameOf));
      } catch {
        return [];
      }
    }
    const slug = this.root.dataset.groupSlug || location.pathname.match(/^\/gruppen\/([^/]+)\//)?.[1];
    if (!slug) return [];
    const names = [];
    let cursor = null;
    try {
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : "";
        const data = await api(`/groups/${encodeURIComponent(slug)}/members${query}`);
        const results = Array.isArray(data) ? data : data?.results || [];
        names.push(...results.map(nameOf));
        cursor = data?.next;
        if (!cursor) break;
      }
    } catch {
      // No member list (e.g. not allowed): the composer works without suggestions.
    }
    return this.clean(names);
  }

  clean(names) {
    const unique = new Set(names.filter((name) => name && name !== this.me.name));
    return Array.from(unique).sort((a, b) => a.localeCompare(b, "de"));
  }

  isOpen() {
    return !this.list.hidden;
  }

  currentQuery() {
    const before = this.input.value.slice(0, this.input.selectionStart ?? this.input.value.length);
    const match = before.match(QUERY_PATTERN);
    return match ? match[1] : null;
  }

  async update() {
    const query = this.currentQuery();
    if (query === null) {
      this.close();
      return;
    }
    const names = await this.loadNames();
    if (this.currentQuery() !== query) return; // typed on meanwhile
    const needle = query.toLocaleLowerCase("de");
    const matches = names
      .filter((name) => {
        const lower = name.toLocaleLowerCase("de");
        return lower.startsWith(needle) || lower.split(/\s+/).some((word) => word.startsWith(needle));
      })
      .slice(0, MAX_OPTIONS);
    if (!matches.length) {
      this.close();
      return;
    }
    this.show(matches);
  }

  show(matches) {
    this.list.textContent = "";
    this.options = matches.map((name, index) => {
      const option = document.createElement("li");
      option.className = "mention-option";
      option.id = `${this.list.id}-${index}`;
      option.setAttribute("role", "option");
      option.textContent = name;
      option.addEventListener("mousedown", (event) => {
        event.preventDefault(); // keep the focus in the composer
        this.choose(index);
      });
      this.list.append(option);
      return option;
    });
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.highlight(0);
  }

  highlight(index) {
    this.active = (index + this.options.length) % this.options.length;
    this.options.forEach((option, i) => option.setAttribute("aria-selected", String(i === this.active)));
    this.input.setAttribute("aria-activedescendant", this.options[this.active].id);
    const option = this.options[this.active];
    if (option.offsetTop < this.list.scrollTop) this.list.scrollTop = option.offsetTop;
    else if (option.offsetTop + option.offsetHeight > this.list.scrollTop + this.list.clientHeight) {
      this.list.scrollTop = option.offsetTop + option.offsetHeight - this.list.clientHeight;
    }
  }

  choose(index) {
    const name = this.options[index]?.textContent;
    if (!name) return;
    const caret = this.input.selectionStart ?? this.input.value.length;
    const before = this.input.value.slice(0, caret);
    const after = this.input.value.slice(caret);
    const start = before.lastIndexOf("@");
    const inserted = `@${name} `;
    this.input.value = before.slice(0, start) + inserted + after;
    const position = start + inserted.length;
    this.input.setSelectionRange(position, position);
    this.close();
    this.input.focus();
  }

  close() {
    this.list.hidden = true;
    this.list.textContent = "";
    this.options = [];
    this.active = -1;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  /** Arrow keys, Enter/Tab and Escape while the list is open; true when handled. */
  handleKey(event) {
    if (!this.isOpen()) return false;
    switch (event.key) {
      case "ArrowDown":
        this.highlight(this.active + 1);
        break;
      case "ArrowUp":
        this.highlight(this.active - 1);
        break;
      case "Enter":
      case "Tab":
        this.choose(this.active);
        break;
      case "Escape":
        this.close();
        break;
      default:
        return false;
    }
    event.preventDefault();
    return true;
  }
}

/* Keyboard operation of every page (base.html loads this file; no framework; works with or without htmx).
 *  "/" or Alt+S  focus the first search field ([data-search-focus]); "/" elsewhere opens 住民検索 — except while
 *                typing in a field
 *  Alt+<key>     the menu entry with that accesskey, also when it sits in a closed drop-down group of the header
 *  Esc           closes an open drop-down group of the header
 *  ↓ in a search field  go to the first result; ↑/↓ move between result rows; Esc back to the search field
 *  Enter submits the form (browser default) and opens the focused result link (browser default). */
(function () {
  "use strict";

  function searchBox() { return document.querySelector("[data-search-focus]"); }

  function rowLinks() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-results] a.row-link"));
  }

  function focusSearch() {
    var box = searchBox();
    if (!box) { return false; }
    box.focus();
    if (box.select) { box.select(); }
    return true;
  }

  function typing(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function menuGroups() { return Array.prototype.slice.call(document.querySelectorAll("details.menu-group")); }

  function closeGroups(except) {
    menuGroups().forEach(function (group) { if (group !== except) { group.open = false; } });
  }

  // One drop-down open at a time; a click outside the open one closes it.
  menuGroups().forEach(function (group) {
    group.addEventListener("toggle", function () { if (group.open) { closeGroups(group); } });
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest || !event.target.closest("details.menu-group")) { closeGroups(null); }
  });

  function hiddenMenuLink(key) {
    var link = document.querySelector(".menu-pop a[accesskey=\"" + key + "\"]");
    if (!link) { return null; }
    var group = link.closest("details.menu-group");
    return group && !group.open ? link : null;
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Escape") {
      var open = document.querySelector("details.menu-group[open]");
      if (open) { open.open = false; open.querySelector("summary").focus(); event.preventDefault(); return; }
    }
    if (event.altKey && !event.ctrlKey && !event.metaKey && event.code && event.code.indexOf("Key") === 0) {
      var hidden = hiddenMenuLink(event.code.slice(3).toLowerCase());
      if (hidden) { event.preventDefault(); window.location.href = hidden.href; return; }
    }
    if (event.key === "/" && !typing(target) && !event.ctrlKey && !event.metaKey && !event.altKey) {
      if (focusSearch()) { event.preventDefault(); return; }
      // On a page without a search box (a 住民票), "/" goes to the search screen: the menu's Alt+S link.
      var menuSearch = document.querySelector(".main-menu a[accesskey=s]");
      if (menuSearch) { event.preventDefault(); window.location.href = menuSearch.href; }
      return;
    }
    // Alt+S is also the menu's accesskey for 住民検索: on a page with a search box, stay here and focus it.
    if (event.altKey && !event.ctrlKey && (event.key === "s" || event.key === "S" || event.code === "KeyS")) {
      if (focusSearch()) { event.preventDefault(); event.stopPropagation(); }
      return;
    }
    var links = rowLinks();
    if (!links.length) { return; }
    var index = links.indexOf(target);
    if (event.key === "ArrowDown") {
      if (index >= 0 && index < links.length - 1) { links[index + 1].focus(); event.preventDefault(); }
      else if (index < 0 && target.closest && target.closest("form[role=search]") && target.type !== "radio") {
        links[0].focus(); event.preventDefault();
      }
    } else if (event.key === "ArrowUp" && index >= 0) {
      if (index > 0) { links[index - 1].focus(); } else { focusSearch(); }
      event.preventDefault();
    } else if (event.key === "Escape" && index >= 0) {
      focusSearch();
      event.preventDefault();
    }
  }, true);

  // After htmx replaces the search area, put the keyboard where the clerk expects it: on the first result when
  // the search found something, otherwise on the field with an error, otherwise on the search box.
  document.addEventListener("htmx:afterSettle", function () {
    var error = document.querySelector(".search-form [aria-invalid=true]");
    if (error) { error.focus(); return; }
    var links = rowLinks();
    if (links.length) { links[0].focus(); return; }
    focusSearch();
  });
})();

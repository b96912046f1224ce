// The page's interactive controls that are rendered, in page order, kept in
// window.__stepgateControls (each element knows its index as
// __stepgateControl); the value is what the Go side reports them by.
(() => {
  const selector = [
    "a[href]", "area[href]", "button", "input:not([type=hidden])", "select", "textarea", "summary", "iframe",
    "[tabindex]", "[contenteditable]:not([contenteditable=false])",
    ...["button", "link", "checkbox", "radio", "switch", "tab", "menuitem", "menuitemcheckbox", "menuitemradio",
      "option", "slider", "spinbutton", "combobox", "textbox", "searchbox"].map(r => `[role=${r}]`),
  ].join(", ");
  const rendered = e => e.getClientRects().length > 0 &&
    e.checkVisibility({visibilityProperty: true, contentVisibilityAuto: true});
  const native = "a[href], area[href], button, input, select, textarea, summary, iframe";
  // An element with tabindex="-1" and no control's role is a place focus
  // is sent to (a dialog, a skip link's target), not a control.
  const control = e => e.matches(native) || e.hasAttribute("role") || e.isContentEditable || e.tabIndex >= 0;
  const els = Array.from(document.querySelectorAll(selector)).filter(e => rendered(e) && control(e));
  const modal = document.querySelector("dialog:modal");
  window.__stepgateControls = els;
  return els.map((e, i) => {
    e.__stepgateControl = i;
    let desc = "<" + e.tagName.toLowerCase();
    for (const a of ["id", "name", "type", "role", "href"]) {
      if (e.hasAttribute(a)) desc += ` ${a}="${e.getAttribute(a).slice(0, 40)}"`;
    }
    desc += ">";
    const text = (e.innerText || e.value || "").trim().replace(/\s+/g, " ").slice(0, 40);
    if (text) desc += " " + JSON.stringify(text);
    // A keyboard user must reach every control a mouse user can use, unless
    // it is disabled, inert, or outside an open modal dialog.
    const usable = !e.matches(":disabled") && e.closest("[inert]") === null && (!modal || modal.contains(e));
    // The items of a group are one stop of the Tab sequence, arrow keys
    // move within it: radios of one name, and the items of a composite
    // widget (tabs of a tablist, options of a listbox, items of a menu).
    let group = "";
    if (e.type === "radio" && e.name) {
      group = "radio:" + (e.form ? Array.from(document.forms).indexOf(e.form) : -1) + ":" + e.name;
    } else if (e.matches("[role=tab], [role=option], [role=menuitem], [role=menuitemcheckbox], [role=menuitemradio], [role=radio], [role=treeitem]")) {
      const box = e.closest("[role=tablist], [role=listbox], [role=menu], [role=menubar], [role=radiogroup], [role=tree]");
      if (box) group = "widget:" + Array.from(document.querySelectorAll("*")).indexOf(box);
    }
    return {desc, tabbable: usable, group};
  });
})()

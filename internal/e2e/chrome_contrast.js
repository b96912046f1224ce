// The contrast of every visible piece of text on the page against the
// background it is drawn on (WCAG 2 relative luminance), as
// [{text, where, fg, bg, ratio, problem}]: each text node, and the value or
// placeholder of each form field. problem is set when the background cannot
// be computed (an image or gradient behind the text).
(() => {
  const canvas = document.createElement("canvas").getContext("2d", {willReadFrequently: true});
  // rgba parses any CSS color the computed style gives into [r, g, b, a]
  // (0-255, alpha 0-1).
  const rgba = css => {
    const m = css.match(/^rgba?\(([\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)(?:[ ,/]+([\d.]+%?))?\)$/);
    if (m) {
      let a = m[4] === undefined ? 1 : parseFloat(m[4]);
      if (m[4] && m[4].endsWith("%")) a /= 100;
      return [+m[1], +m[2], +m[3], a];
    }
    canvas.clearRect(0, 0, 1, 1);
    canvas.fillStyle = "#000";
    canvas.fillStyle = css;
    canvas.fillRect(0, 0, 1, 1);
    const d = canvas.getImageData(0, 0, 1, 1).data;
    return d[3] === 0 ? [0, 0, 0, 0] : [d[0], d[1], d[2], d[3] / 255];
  };
  const over = (top, below) => { // top composited over an opaque color
    const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + below[i] * (1 - a)).concat(1);
  };
  const lum = c => {
    const [r, g, b] = c.slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => {
    const [l1, l2] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (l1 + 0.05) / (l2 + 0.05);
  };
  const hex = c => "#" + c.slice(0, 3).map(v => Math.round(v).toString(16).padStart(2, "0")).join("");
  const opacity = e => {
    let o = 1;
    for (; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity);
    return o;
  };
  // The canvas: the root's background, or the body's propagated to it, or
  // the scheme's Canvas color.
  const canvasColor = (() => {
    for (const e of [document.documentElement, document.body]) {
      const c = e && rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) return over(c, [255, 255, 255, 1]);
    }
    const probe = document.createElement("div");
    probe.style.backgroundColor = "Canvas";
    document.documentElement.appendChild(probe);
    const c = rgba(getComputedStyle(probe).backgroundColor);
    probe.remove();
    return over(c, [255, 255, 255, 1]);
  })();
  const describe = e => {
    let d = e.tagName.toLowerCase();
    if (e.id) d += "#" + e.id;
    else if (e.classList.length) d += "." + Array.from(e.classList).join(".");
    return d;
  };
  const results = [], scrolled = [scrollX, scrollY];
  // check measures text drawn by element el at rect (viewport coordinates)
  // in color fg.
  const check = (el, rect, fg, text) => {
    if (rect.bottom <= 0 || rect.top >= innerHeight || rect.right <= 0 || rect.left >= innerWidth) {
      el.scrollIntoView({block: "center", inline: "center"});
      rect = el.getBoundingClientRect();
    }
    const x = Math.min(Math.max(rect.left + rect.width / 2, 0), innerWidth - 1);
    const y = Math.min(Math.max(rect.top + rect.height / 2, 0), innerHeight - 1);
    const stack = document.elementsFromPoint(x, y);
    let i = stack.findIndex(s => s === el || s.contains(el));
    if (i < 0) { // el does not take hits (pointer-events: none): use its ancestors
      i = stack.length;
      for (let a = el; a; a = a.parentElement) {
        const j = stack.indexOf(a);
        if (j >= 0) { i = j; break; }
      }
    }
    for (const s of stack.slice(0, i)) { // drawn above the text: covered?
      if (!el.contains(s) && !s.contains(el) && rgba(getComputedStyle(s).backgroundColor)[3] >= 0.99) return;
    }
    // The layers drawn under the text, bottom first: what the point hits
    // behind it, then el's ancestors the hit test skipped, then el.
    const layers = stack.slice(i).reverse();
    const inner = [];
    for (let a = el; a && a !== stack[i]; a = a.parentElement) inner.unshift(a);
    let bg = canvasColor;
    for (const s of layers.concat(inner)) {
      const cs = getComputedStyle(s);
      if (cs.backgroundImage !== "none") {
        results.push({text, where: describe(el), problem: "drawn over a background image or gradient of " + describe(s)});
        return;
      }
      const c = rgba(cs.backgroundColor);
      bg = over([c[0], c[1], c[2], c[3] * parseFloat(cs.opacity)], bg);
    }
    const f = over([fg[0], fg[1], fg[2], fg[3] * opacity(el)], bg);
    results.push({text, where: describe(el), fg: hex(f), bg: hex(bg), ratio: ratio(f, bg)});
  };
  const visible = el => el.checkVisibility({opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true});

  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || !n.data.trim() || el.closest("script, style, noscript, template, textarea, select, option")) continue;
    if (!visible(el)) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    const rect = Array.from(range.getClientRects()).find(r => r.width > 1 && r.height > 1);
    if (!rect) continue; // not drawn, or clipped to nothing (visually hidden)
    check(el, rect, rgba(getComputedStyle(el).color), n.data.trim().replace(/\s+/g, " ").slice(0, 50));
  }
  for (const el of document.querySelectorAll("input:not([type=hidden]), textarea, select")) {
    if (!visible(el) || ["checkbox", "radio", "range", "color", "file", "image", "submit", "reset", "button"].includes(el.type)) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width <= 1 || rect.height <= 1) continue;
    if (el.value || el.tagName === "SELECT") {
      const text = el.tagName === "SELECT" ? (el.selectedOptions[0] || {}).text || "" : el.value;
      if (text.trim()) check(el, rect, rgba(getComputedStyle(el).color), "value of " + describe(el) + ": " + text.slice(0, 30));
    } else if (el.placeholder) {
      check(el, rect, rgba(getComputedStyle(el, "::placeholder").color), "placeholder of " + describe(el) + ": " + el.placeholder.slice(0, 30));
    }
  }
  scrollTo(...scrolled);
  return results;
})()

/**
 * A strict little XML parser for tests: throws on anything not well-formed (bad nesting, unquoted or
 * duplicate attributes, stray "<" or "&", text outside the root) and returns an element tree to query.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Text directly inside this element (entities decoded). */
  text: string;
}

const NAME = "[A-Za-z_:][-A-Za-z0-9_:.]*";
const TAG = new RegExp(`^<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*(?:"[^"<]*"|'[^'<]*'))*)\\s*(/?)>`);
const ATTR = new RegExp(`(${NAME})\\s*=\\s*(?:"([^"<]*)"|'([^'<]*)')`, "g");
const ENTITY = /&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/g;

function decode(s: string, where: string): string {
  if (s.replace(ENTITY, "").includes("&"))
    throw new Error(`XML: bad entity in ${where}: ${JSON.stringify(s.slice(0, 80))}`);
  return s.replace(ENTITY, (e) => {
    const named: Record<string, string> = {
      "&amp;": "&",
      "&lt;": "<",
      "&gt;": ">",
      "&quot;": '"',
      "&apos;": "'",
    };
    if (named[e]) return named[e];
    const code = e[2] === "x" ? Number.parseInt(e.slice(3, -1), 16) : Number.parseInt(e.slice(2, -1), 10);
    return String.fromCodePoint(code);
  });
}

export function parseXML(src: string): XmlElement {
  let s = src.replace(/^\uFEFF?\s*<\?xml[^?]*\?>/, "");
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (s.length > 0) {
    const lt = s.indexOf("<");
    const text = lt < 0 ? s : s.slice(0, lt);
    if (text) {
      if (stack.length === 0) {
        if (text.trim())
          throw new Error(`XML: text outside the root element: ${JSON.stringify(text.slice(0, 40))}`);
      } else stack[stack.length - 1].text += decode(text, "text");
      if (text.includes(">") && stack.length === 0) throw new Error("XML: stray '>'");
    }
    if (lt < 0) break;
    s = s.slice(lt);
    if (s.startsWith("<!--")) {
      const end = s.indexOf("-->");
      if (end < 0) throw new Error("XML: unterminated comment");
      s = s.slice(end + 3);
      continue;
    }
    if (s.startsWith("<![CDATA[")) {
      const end = s.indexOf("]]>");
      if (end < 0 || stack.length === 0) throw new Error("XML: bad CDATA section");
      stack[stack.length - 1].text += s.slice(9, end);
      s = s.slice(end + 3);
      continue;
    }
    const m = TAG.exec(s);
    if (!m) throw new Error(`XML: malformed tag at ${JSON.stringify(s.slice(0, 60))}`);
    const [whole, closing, name, attrText, selfClosing] = m;
    s = s.slice(whole.length);
    if (closing) {
      if (attrText.trim() || selfClosing) throw new Error(`XML: malformed closing tag </${name}>`);
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`XML: </${name}> closes <${open?.name ?? "nothing"}>`);
      continue;
    }
    const el: XmlElement = { name, attrs: {}, children: [], text: "" };
    for (const a of attrText.matchAll(ATTR)) {
      if (a[1] in el.attrs) throw new Error(`XML: duplicate attribute ${a[1]} on <${name}>`);
      el.attrs[a[1]] = decode(a[2] ?? a[3] ?? "", `attribute ${a[1]}`);
    }
    if (stack.length > 0) stack[stack.length - 1].children.push(el);
    else if (root) throw new Error("XML: more than one root element");
    else root = el;
    if (!selfClosing) stack.push(el);
  }
  if (stack.length > 0) throw new Error(`XML: <${stack[stack.length - 1].name}> is never closed`);
  if (!root) throw new Error("XML: no root element");
  return root;
}

export function findAll(
  el: XmlElement,
  pred: (e: XmlElement) => boolean,
  out: XmlElement[] = [],
): XmlElement[] {
  if (pred(el)) out.push(el);
  for (const c of el.children) findAll(c, pred, out);
  return out;
}

export function byClass(el: XmlElement, cls: string): XmlElement[] {
  return findAll(el, (e) => (e.attrs.class ?? "").split(/\s+/).includes(cls));
}

/** All text inside an element, its descendants' included. */
export function textContent(el: XmlElement): string {
  return el.text + el.children.map(textContent).join("");
}

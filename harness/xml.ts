/**
 * XML for the JUnit report: escaping that always yields well-formed XML 1.0 (console lines may
 * hold control characters no XML document can carry), and a small well-formedness parser used to
 * check reports (a document tree comes back so counts can be verified).
 *
 * @module
 */

/** Escapes text for element content or a double-quoted attribute value. */
export function escapeXml(text: string): string {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === "&") out += "&amp;";
    else if (ch === "<") out += "&lt;";
    else if (ch === ">") out += "&gt;";
    else if (ch === '"') out += "&quot;";
    else if (ch === "'") out += "&apos;";
    else if (ch === "\n" || ch === "\t") out += ch;
    else if (ch === "\r") out += "&#13;";
    else if (!isXmlChar(c)) {
      // Not representable in XML 1.0 even as a reference: show it instead.
      out += `\\x${c.toString(16).padStart(2, "0")}`;
    } else out += ch;
  }
  return out;
}

/** True for code points XML 1.0 allows in a document. */
export function isXmlChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/** An element of a parsed document. */
export interface XmlElement {
  /** Tag name. */
  name: string;
  /** Attributes, entity references resolved. */
  attrs: Record<string, string>;
  /** Child elements in order. */
  children: XmlElement[];
  /** Concatenated character data directly inside the element, references resolved. */
  text: string;
}

/** A well-formedness error with the offset it was found at. */
export class XmlError extends Error {
  /** Creates an error at character `offset`. */
  constructor(message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = "XmlError";
  }
}

const NAME_START = /[A-Za-z_:]/;
const NAME_CHAR = /[A-Za-z0-9_:.\-]/;

/**
 * Parses `doc` and returns its root element, or throws {@link XmlError}. Checks what a JUnit
 * consumer relies on: an optional XML declaration, comments, one root element, matched tags,
 * unique quoted attributes, only the five predefined and numeric character references, no `<`
 * or bare `&` in text or attributes, and only characters XML 1.0 allows. DTDs are refused.
 */
export function parseXml(doc: string): XmlElement {
  let i = 0;
  const fail = (msg: string): never => {
    throw new XmlError(msg, i);
  };
  for (let k = 0; k < doc.length; k++) {
    const c = doc.codePointAt(k)!;
    if (!isXmlChar(c)) throw new XmlError(`character U+${c.toString(16)} not allowed`, k);
    if (c > 0xffff) k++;
  }
  const startsWith = (s: string) => doc.startsWith(s, i);
  const skipSpace = () => {
    while (i < doc.length && /[ \t\r\n]/.test(doc[i])) i++;
  };
  const readName = (): string => {
    if (i >= doc.length || !NAME_START.test(doc[i])) fail("expected a name");
    const s = i;
    while (i < doc.length && NAME_CHAR.test(doc[i])) i++;
    return doc.slice(s, i);
  };
  const decode = (raw: string, at: number): string =>
    raw.replace(/&([^;]*);|&|</g, (m, ref: string | undefined, off: number) => {
      if (m === "<") throw new XmlError("'<' in character data", at + off);
      if (ref === undefined) throw new XmlError("bare '&'", at + off);
      const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
      if (ref in named) return named[ref];
      const num = /^#(\d+)$/.exec(ref) ?? /^#x([0-9A-Fa-f]+)$/.exec(ref);
      if (num) {
        const cp = parseInt(num[1], ref.startsWith("#x") ? 16 : 10);
        if (!isXmlChar(cp)) throw new XmlError(`reference to a forbidden character`, at + off);
        return String.fromCodePoint(cp);
      }
      throw new XmlError(`unknown entity &${ref};`, at + off);
    });
  const skipMisc = () => {
    for (;;) {
      skipSpace();
      if (startsWith("<!--")) {
        const end = doc.indexOf("-->", i + 4);
        if (end < 0) fail("unterminated comment");
        if (doc.slice(i + 4, end).includes("--")) fail("'--' inside a comment");
        i = end + 3;
      } else if (startsWith("<?")) {
        if (startsWith("<?xml") && i !== 0) fail("XML declaration not at the start");
        const end = doc.indexOf("?>", i + 2);
        if (end < 0) fail("unterminated processing instruction");
        i = end + 2;
      } else if (startsWith("<!")) {
        fail("DTDs and other declarations are not accepted");
      } else return;
    }
  };
  const parseElement = (): XmlElement => {
    if (!startsWith("<")) fail("expected an element");
    i++;
    const name = readName();
    const attrs: Record<string, string> = {};
    for (;;) {
      const hadSpace = /[ \t\r\n]/.test(doc[i] ?? "");
      skipSpace();
      if (startsWith("/>")) {
        i += 2;
        return { name, attrs, children: [], text: "" };
      }
      if (startsWith(">")) {
        i++;
        break;
      }
      if (!hadSpace) fail("expected whitespace before an attribute");
      const an = readName();
      skipSpace();
      if (!startsWith("=")) fail(`expected '=' after attribute ${an}`);
      i++;
      skipSpace();
      const q = doc[i];
      if (q !== '"' && q !== "'") fail("attribute value must be quoted");
      const end = doc.indexOf(q, i + 1);
      if (end < 0) fail("unterminated attribute value");
      if (an in attrs) fail(`duplicate attribute ${an}`);
      attrs[an] = decode(doc.slice(i + 1, end), i + 1);
      i = end + 1;
    }
    const children: XmlElement[] = [];
    let text = "";
    for (;;) {
      if (i >= doc.length) fail(`unclosed element <${name}>`);
      if (startsWith("</")) {
        i += 2;
        const close = readName();
        if (close !== name) fail(`</${close}> closes <${name}>`);
        skipSpace();
        if (!startsWith(">")) fail("expected '>'");
        i++;
        return { name, attrs, children, text };
      }
      if (startsWith("<!--") || startsWith("<?")) {
        skipMisc();
        continue;
      }
      if (startsWith("<![CDATA[")) {
        const end = doc.indexOf("]]>", i + 9);
        if (end < 0) fail("unterminated CDATA section");
        text += doc.slice(i + 9, end);
        i = end + 3;
        continue;
      }
      if (startsWith("<")) {
        children.push(parseElement());
        continue;
      }
      const next = doc.indexOf("<", i);
      const end = next < 0 ? doc.length : next;
      const raw = doc.slice(i, end);
      if (raw.includes("]]>")) fail("']]>' in character data");
      text += decode(raw, i);
      i = end;
    }
  };
  if (doc.charCodeAt(0) === 0xfeff) i = 1;
  skipMisc();
  const root = parseElement();
  skipMisc();
  if (i < doc.length) fail("content after the root element");
  return root;
}

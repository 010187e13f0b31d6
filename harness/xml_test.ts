import { assertEquals, assertThrows } from "../tests/assert.ts";
import { escapeXml, parseXml, XmlError } from "./xml.ts";

Deno.test("escapeXml round-trips markup characters and makes forbidden ones visible", () => {
  const text = `a<b>&"c"'d' \x1b[0m\x00 \r\n\t é 😀`;
  const doc = `<r a="${escapeXml(text)}">${escapeXml(text)}</r>`;
  const root = parseXml(doc);
  const expected = `a<b>&"c"'d' \\x1b[0m\\x00 \r\n\t é 😀`;
  assertEquals(root.text, expected);
  assertEquals(root.attrs.a, expected);
});

Deno.test("parseXml returns the element tree", () => {
  const root = parseXml(
    `<?xml version="1.0" encoding="UTF-8"?>\n<!-- c --><a x='1'><b/><b y="&#x41;&#66;">t&amp;u</b><![CDATA[<raw>]]></a>\n`,
  );
  assertEquals(root.name, "a");
  assertEquals(root.attrs, { x: "1" });
  assertEquals(root.children.map((c) => c.name), ["b", "b"]);
  assertEquals(root.children[1].attrs.y, "AB");
  assertEquals(root.children[1].text, "t&u");
  assertEquals(root.text, "<raw>");
});

Deno.test("parseXml rejects documents that are not well-formed", () => {
  const bad = [
    "",
    "<a>",
    "<a></b>",
    "<a><b></a></b>",
    "<a/><b/>",
    "<a>x & y</a>",
    "<a>x < y</a>",
    '<a x="1" x="2"/>',
    "<a x=1/>",
    '<a x="<"/>',
    "<a>&nbsp;</a>",
    "<a>\x01</a>",
    "<a>&#1;</a>",
    "<!DOCTYPE a><a/>",
    "<a>]]></a>",
    "<a><!-- x -- y --></a>",
    '<a x="1"y="2"/>',
    "text",
    "<a/> trailing",
  ];
  for (const doc of bad) {
    assertThrows(() => parseXml(doc), XmlError, undefined);
  }
});

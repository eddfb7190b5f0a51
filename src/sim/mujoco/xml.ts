/**
 * A small, lenient XML element reader for URDF files (elements and attributes only; text,
 * comments, CDATA, processing instructions and DOCTYPE are skipped). Enough for URDF, which
 * carries everything in attributes, and tolerant of the sloppy files found in the wild.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** 1-based line of the opening tag (for error messages). */
  line: number;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (all, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? all;
  });
}

/** Parses `text` and returns the root element. Throws `Xml: ...` on structural errors. */
export function parseXml(text: string, source = 'XML'): XmlElement {
  const root: XmlElement = { name: '#document', attrs: {}, children: [], line: 0 };
  const stack: XmlElement[] = [root];
  let i = 0;
  let line = 1;
  const n = text.length;
  const advanceTo = (j: number): void => {
    for (let k = i; k < j; k++) if (text.charCodeAt(k) === 10) line++;
    i = j;
  };
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    advanceTo(lt);
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) throw new Error(`Xml: ${source}: unterminated comment at line ${line}`);
      advanceTo(end + 3);
      continue;
    }
    if (text.startsWith('<![CDATA[', i)) {
      const end = text.indexOf(']]>', i);
      if (end < 0) throw new Error(`Xml: ${source}: unterminated CDATA at line ${line}`);
      advanceTo(end + 3);
      continue;
    }
    if (text.startsWith('<?', i) || text.startsWith('<!', i)) {
      const end = text.indexOf('>', i);
      if (end < 0) throw new Error(`Xml: ${source}: unterminated declaration at line ${line}`);
      advanceTo(end + 1);
      continue;
    }
    // Find the end of the tag, skipping quoted attribute values.
    let j = i + 1;
    let quote = '';
    while (j < n) {
      const c = text[j]!;
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '>') break;
      j++;
    }
    if (j >= n) throw new Error(`Xml: ${source}: unterminated tag at line ${line}`);
    const body = text.slice(i + 1, j);
    const tagLine = line;
    advanceTo(j + 1);
    if (body.startsWith('/')) {
      const name = body.slice(1).trim();
      const top = stack[stack.length - 1]!;
      if (stack.length === 1 || top.name !== name) {
        throw new Error(`Xml: ${source}: unexpected </${name}> at line ${tagLine}; expected </${top.name}>`);
      }
      stack.pop();
      continue;
    }
    const selfClosing = body.endsWith('/');
    const inner = selfClosing ? body.slice(0, -1) : body;
    const nameMatch = /^\s*([^\s/>]+)/.exec(inner);
    if (!nameMatch) throw new Error(`Xml: ${source}: empty tag at line ${tagLine}`);
    const el: XmlElement = { name: nameMatch[1]!, attrs: {}, children: [], line: tagLine };
    const attrRe = /([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
    attrRe.lastIndex = nameMatch[0].length;
    for (let m = attrRe.exec(inner); m; m = attrRe.exec(inner)) el.attrs[m[1]!] = decodeEntities(m[2] ?? m[3] ?? '');
    stack[stack.length - 1]!.children.push(el);
    if (!selfClosing) stack.push(el);
  }
  if (stack.length > 1) throw new Error(`Xml: ${source}: <${stack[stack.length - 1]!.name}> is never closed`);
  const first = root.children[0];
  if (!first) throw new Error(`Xml: ${source}: no root element`);
  return first;
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

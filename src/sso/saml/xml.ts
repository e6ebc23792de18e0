// Reading SAML XML with xmldom: a strict parse, and an element's children by namespace and name.
import { DOMParser, type Document, type Element, onErrorStopParsing } from '@xmldom/xmldom';

const ELEMENT_NODE = 1;

export const SAML_NAMESPACES = {
  metadata: 'urn:oasis:names:tc:SAML:2.0:metadata',
  assertion: 'urn:oasis:names:tc:SAML:2.0:assertion',
  xmldsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

/**
 * Parses XML without fetching or expanding anything it names: a document type declaration is refused (SAML needs
 * no entity of any kind), and any parse error stops the parse. `fail` makes the error thrown from what is wrong.
 */
export function parseXml(xml: string, fail: (problem: string) => Error): Element {
  let document: Document;
  try {
    document = new DOMParser({ onError: onErrorStopParsing }).parseFromString(xml, 'text/xml');
  } catch {
    throw fail('is not well-formed XML');
  }
  if (document.doctype) throw fail('has a document type declaration, which is not accepted');
  if (!document.documentElement) throw fail('is not well-formed XML');
  return document.documentElement;
}

/** The child elements of `parent` with this namespace and local name, in document order. */
export function childElements(parent: Element, namespace: string, localName: string): Element[] {
  const found: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) {
    if (node.nodeType !== ELEMENT_NODE) continue;
    const element = node as Element;
    if (element.namespaceURI === namespace && element.localName === localName) found.push(element);
  }
  return found;
}

/** The elements reached from `from` by following a path of child names, all in one namespace. */
export function descendants(from: Element[], namespace: string, path: string[]): Element[] {
  return path.reduce(
    (current, localName) => current.flatMap((element) => childElements(element, namespace, localName)),
    from,
  );
}

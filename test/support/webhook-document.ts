// A delivery checked against its description in the served OpenAPI document's `webhooks` object.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; its default export arrives wrapped under ES modules.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** The document's description of a delivery: its header parameters and its payload schema. */
interface DeliveryOperation {
  parameters: { name: string; schema: object }[];
  requestBody: { content: Record<string, { schema: object }> };
}

/** A POST as the receiver got it: the Standard Webhooks headers and the body's text. */
interface ReceivedPost {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
}

/**
 * What a delivery breaks of the document's `webhooks[name]` (JSON Schema 2020-12, as OpenAPI 3.1 says): each
 * `webhook-*` header against its parameter, the body against the payload schema. An empty list: it is as declared.
 */
export function deliveryCheck(document: object, name: string): (post: ReceivedPost) => string[] {
  const operation = (document as { webhooks?: Record<string, { post?: DeliveryOperation }> }).webhooks?.[name]
    ?.post;
  if (!operation) throw new Error(`The document has no webhook ${name}`);
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv, ['date-time', 'email']);
  const payloadSchema = operation.requestBody.content['application/json']?.schema;
  if (!payloadSchema) throw new Error(`The webhook ${name} declares no JSON payload`);
  const payload = ajv.compile(JSON.parse(JSON.stringify(payloadSchema)));
  const headers = operation.parameters.map(
    (parameter) => [parameter.name, ajv.compile(JSON.parse(JSON.stringify(parameter.schema)))] as const,
  );
  return (post) => {
    const sent: Record<string, string> = {
      'webhook-id': post.id,
      'webhook-timestamp': post.timestamp,
      'webhook-signature': post.signature,
    };
    const problems = headers
      .filter(([header, check]) => !check(sent[header]))
      .map(([header]) => `${header} ${JSON.stringify(sent[header])} is not as declared`);
    if (!payload(JSON.parse(post.body))) problems.push(`body: ${ajv.errorsText(payload.errors)}`);
    if (headers.map(([header]) => header).join() !== Object.keys(sent).join()) {
      problems.push(`declares the headers ${headers.map(([header]) => header).join(', ')}`);
    }
    return problems;
  };
}

import { createRequire } from 'node:module';

/**
 * One Jupyter display output: the same content in several MIME types, of which the front end
 * shows the richest it can render (JupyterLab, the classic notebook, nbconvert's HTML, a terminal).
 */
export interface MimeBundle {
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** Text for HTML element content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/**
 * JSON that can stand inside an HTML `<script>` element: `<`, `>`, `&` and the line separators
 * are written as \u escapes, so no string in the data can close the element (`</script>`) or open
 * a comment.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

type WriteDisplayData = (content: { data: unknown; metadata: unknown; transient: { display_id?: string } }, update: boolean) => void;

const requireHere = createRequire(import.meta.url);

/**
 * tslab's own writer for the cell being executed. tslab's public `display` sends one MIME type per
 * output; a bundle needs several in one, so the helpers send through the writer `display` itself
 * uses (the same tslab instance: the kernel runs the project's node_modules/tslab). Undefined
 * outside a running tslab kernel.
 */
function tslabWriter(): WriteDisplayData | undefined {
  try {
    const jupyter = requireHere('tslab/dist/jupyter') as { lastWriteDisplayData?: WriteDisplayData | null };
    return typeof jupyter.lastWriteDisplayData === 'function' ? jupyter.lastWriteDisplayData : undefined;
  } catch {
    return undefined;
  }
}

/** Where `show` sends bundles; tests and other front ends can set their own. */
export type DisplaySink = (bundle: MimeBundle, target: { readonly displayId?: string; readonly update: boolean }) => void;

let sink: DisplaySink | undefined;

/** Sends bundles to `custom` instead of the kernel (undefined: back to the kernel). Returns the previous sink. */
export function setDisplaySink(custom: DisplaySink | undefined): DisplaySink | undefined {
  const previous = sink;
  sink = custom;
  return previous;
}

/**
 * Displays a bundle as one output of the current cell. With a `displayId`, `update: true` replaces
 * the output shown earlier under that id (Jupyter's update_display_data) instead of adding one.
 * Outside a kernel (a plain Node script) the text/plain part is printed.
 */
export function show(bundle: MimeBundle, target: { readonly displayId?: string; readonly update?: boolean } = {}): void {
  const update = target.update ?? false;
  if (sink) {
    sink(bundle, { displayId: target.displayId, update });
    return;
  }
  const write = tslabWriter();
  if (write) {
    write(
      { data: bundle.data, metadata: bundle.metadata ?? {}, transient: target.displayId ? { display_id: target.displayId } : {} },
      update && !!target.displayId,
    );
    return;
  }
  if (!update) console.log(String(bundle.data['text/plain'] ?? ''));
}

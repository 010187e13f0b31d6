/**
 * A TransformStream splitting text into lines (without the line break), for the JSON-lines
 * conversation between the campaign driver and its workers.
 *
 * @module
 */

/** Splits a text stream at `\n` (a trailing `\r` is dropped). */
export class TextLineStream extends TransformStream<string, string> {
  /** Creates the stream. */
  constructor() {
    let buf = "";
    super({
      transform(chunk, ctl) {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          ctl.enqueue(buf.slice(0, i).replace(/\r$/, ""));
          buf = buf.slice(i + 1);
        }
      },
      flush(ctl) {
        if (buf.length > 0) ctl.enqueue(buf);
      },
    });
  }
}

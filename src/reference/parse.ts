// Reference twin of assembly/parse.ts: plain delimited text split into fields, each field's
// canonical integer (or −1) and plain decimal (or NaN) read on the way.
const ZERO = 0x30,
  LF = 0x0a,
  CR = 0x0d,
  DOT = 0x2e,
  MINUS = 0x2d;

/** The numbers of the field text[start, end), by the rules of scan_fields. */
export function fieldNumbers(text: Uint8Array, start: number, end: number): { integer: number; decimal: number } {
  let mantissa = 0,
    digits = 0,
    dec = -1,
    plain = true,
    negative = false,
    leadingZero = false;
  for (let q = start; q < end && plain; q++) {
    const c = text[q]!;
    const d = c - ZERO;
    if (d >= 0 && d <= 9) {
      if (digits === 0 && d === 0 && dec < 0) leadingZero = true;
      mantissa = mantissa * 10 + d;
      digits++;
      if (dec >= 0) dec++;
    } else if (c === DOT && dec < 0) dec = 0;
    else if (c === MINUS && q === start) negative = true;
    else plain = false;
  }
  const numeric = plain && digits > 0 && digits <= 15;
  const value = dec > 0 ? mantissa / 10 ** dec : mantissa;
  return {
    integer: numeric && !negative && dec < 0 && !(leadingZero && digits > 1) ? mantissa : -1,
    decimal: numeric && dec !== 0 && dec <= 22 ? (negative ? -value : value) : NaN,
  };
}

export function scanFields(
  text: Uint8Array,
  len: number,
  from: number,
  sep: number,
  final: boolean,
  rowFields: Int32Array,
  starts: Int32Array,
  ends: Int32Array,
  integers: Float64Array,
  decimals: Float64Array,
  maxRows: number,
  maxFields: number,
): { rows: number; consumed: number } {
  let rows = 0,
    fields = 0,
    lineStart = from;
  rowFields[0] = 0;
  while (lineStart < len) {
    let lineEnd = text.indexOf(LF, lineStart);
    if (lineEnd < 0 || lineEnd > len) lineEnd = len;
    if (lineEnd === len && !final) break;
    if (rows === maxRows) break;
    let fieldCount = 1;
    for (let p = lineStart; p < lineEnd; p++) if (text[p] === sep) fieldCount++;
    if (fields + fieldCount > maxFields) break;
    const contentEnd = lineEnd > lineStart && text[lineEnd - 1] === CR ? lineEnd - 1 : lineEnd;
    let fieldStart = lineStart;
    for (let p = lineStart; p <= contentEnd; p++) {
      if (p < contentEnd && text[p] !== sep) continue;
      const { integer, decimal } = fieldNumbers(text, fieldStart, p);
      starts[fields] = fieldStart;
      ends[fields] = p;
      integers[fields] = integer;
      decimals[fields] = decimal;
      fields++;
      fieldStart = p + 1;
    }
    rowFields[++rows] = fields;
    lineStart = lineEnd + 1;
  }
  return { rows, consumed: Math.min(lineStart, len) };
}

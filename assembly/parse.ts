// Splitting plain delimited text (no quotes; one-byte delimiter; LF or CRLF lines) into fields,
// with each field's number read on the way: the loading fast path's hot loop. For each field it
// records [start, end) byte offsets, its value as a canonical non-negative integer (digits, no
// leading zero, ≤ 15 digits) or −1, and its value as a plain decimal ('-'? digits ('.' digits)?,
// ≤ 15 significant digits, ≤ 22 decimals) or NaN. The decimal is the digits as one integer
// mantissa divided once by a power of ten: both exact, so the quotient is the correctly rounded
// value, the one JavaScript's Number() gives. Anything else in a field (spaces, '+', exponents,
// letters) leaves −1 / NaN and the caller reads the field's text.

const ZERO: i32 = 0x30, LF: i32 = 0x0a, CR: i32 = 0x0d, DOT: i32 = 0x2e, MINUS: i32 = 0x2d;

@inline function pow10(k: i32): f64 {
  let p: f64 = 1;
  for (let i = 0; i < k; i++) p *= 10;
  return p;
}

/**
 * Scans whole lines of text[0, len) from byte `from`. Line r's fields are field records
 * rowFields[r] .. rowFields[r + 1] − 1 (rowFields has room for maxRows + 1); field f's bytes are
 * [starts[f], ends[f]) (a CR before the LF excluded), its numbers integers[f] and decimals[f].
 * Stops before a line that would pass maxRows or maxFields, or at an incomplete last line unless
 * `final` (then the text's end closes it). Returns the number of lines scanned; *consumed (i32)
 * gets the offset just past the last of them.
 */
export function scan_fields(text: usize, len: i32, from: i32, sep: i32, final: bool,
                            rowFields: usize, starts: usize, ends: usize, integers: usize, decimals: usize,
                            maxRows: i32, maxFields: i32, consumed: usize): i32 {
  let rows = 0, fields = 0, lineStart = from, fieldStart = from;
  let mantissa: f64 = 0, digits = 0, dec = -1, plain = true, negative = false, leadingZero = false;
  store<i32>(rowFields, 0);
  // One pass: a field ends at each delimiter and line end, a line at each LF. A line that does
  // not fit the output, or is not complete in this text, is dropped whole and left for the next call.
  for (let p = from; p <= len; p++) {
    const c: i32 = p < len ? <i32>load<u8>(text + <usize>p) : -1;
    const d = c - ZERO;
    if (d >= 0 && d <= 9) {
      if (digits == 0 && d == 0 && dec < 0) leadingZero = true;
      mantissa = mantissa * 10 + <f64>d;
      digits++;
      if (dec >= 0) dec++;
      continue;
    }
    if (c != sep && c != LF && c >= 0) {
      if (c == DOT && dec < 0) dec = 0;
      else if (c == MINUS && p == fieldStart) negative = true;
      else if (!(c == CR && (p + 1 == len || <i32>load<u8>(text + <usize>p + 1) == LF))) plain = false;
      continue;
    }
    // The end of a field: at a delimiter, a LF, or the end of the text.
    if (c < 0 && (!final || p == lineStart)) break; // an incomplete line, or nothing after the last LF
    if (fields == maxFields || rows == maxRows) break;
    let end = p;
    if (c != sep && end > fieldStart && <i32>load<u8>(text + <usize>end - 1) == CR) end--;
    const numeric = plain && digits > 0 && digits <= 15;
    const at = <usize>fields;
    store<i32>(starts + (at << 2), fieldStart);
    store<i32>(ends + (at << 2), end);
    const m = mantissa; // exact: at most 15 digits
    store<f64>(integers + (at << 3), numeric && !negative && dec < 0 && !(leadingZero && digits > 1) ? m : -1);
    const value = dec > 0 ? m / pow10(dec) : m;
    store<f64>(decimals + (at << 3), numeric && dec != 0 && dec <= 22 ? (negative ? -value : value) : NaN);
    fields++;
    mantissa = 0; digits = 0; dec = -1; plain = true; negative = false; leadingZero = false;
    fieldStart = p + 1;
    if (c != sep) {
      rows++;
      store<i32>(rowFields + (<usize>rows << 2), fields);
      lineStart = p + 1;
    }
  }
  store<i32>(consumed, min(lineStart, len));
  return rows;
}

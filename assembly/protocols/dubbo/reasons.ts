// Why a stream or a body was rejected: small integer codes in the hot paths (a string operand would
// cost the decoder's functions a shadow-stack frame under the incremental runtime), static texts for
// the API (errorReason(), bodyErrorReason()).

export const R_NONE: i32 = 0;

// stream errors (DubboDecoder.errorReason(): the decoder stays in error until reset())
export const E_MAGIC: i32 = 1;
export const E_LENGTH: i32 = 2;
export const E_BODY_LIMIT: i32 = 3;
export const E_SKIP: i32 = 4;

// Hessian errors (HessianWalker): end the body's parse, not the stream
export const H_RESERVED: i32 = 5;
export const H_UTF8: i32 = 6;
export const H_STR_CHUNK: i32 = 7;
export const H_BIN_CHUNK: i32 = 8;
export const H_END: i32 = 9;
export const H_ODD_MAP: i32 = 10;
export const H_NOT_STRING: i32 = 11;
export const H_NOT_INT: i32 = 12;
export const H_NOT_TYPE: i32 = 13;
export const H_LENGTH: i32 = 14;
export const H_CLASS: i32 = 15;
export const H_CLASSDEFS: i32 = 16;
export const H_DEPTH: i32 = 17;
export const H_STRING_LONG: i32 = 18;
export const H_ATTACHMENTS: i32 = 19;

// body errors (BodyReader): what the Dubbo body lacks, in Dubbo's terms
export const B_NOT_HESSIAN: i32 = 20;
export const B_META_NOT_STRING: i32 = 21;
export const B_META_MISSING: i32 = 22;
export const B_ARGS_MISSING: i32 = 23;
export const B_TRUNCATED: i32 = 24;
export const B_FLAG_NOT_INT: i32 = 25;
export const B_FLAG: i32 = 26;
export const B_FLAG_MISSING: i32 = 27;
export const B_RESULT_MISSING: i32 = 28;
export const B_TRAILING: i32 = 29;
export const B_MESSAGE_MISSING: i32 = 30;
export const B_MESSAGE_NOT_STRING: i32 = 31;
export const B_EVENT_EMPTY: i32 = 32;

const TEXTS: StaticArray<string> = [
  "",
  "invalid dubbo magic number",
  "invalid dubbo body length",
  "dubbo body length exceeds maxBodyBytes",
  "invalid skip",
  "hessian: reserved or unknown code",
  "hessian: bad utf-8 encoding",
  "hessian: expected a string chunk",
  "hessian: expected a binary chunk",
  "hessian: unexpected end marker",
  "hessian: map ends after a key",
  "hessian: expected a string",
  "hessian: expected an int",
  "hessian: expected a type",
  "hessian: invalid length",
  "hessian: undefined class definition",
  "hessian: too many class definitions",
  "hessian: nesting too deep",
  "hessian: string exceeds maxStringBytes",
  "hessian: too many attachments",
  "body serialization is not hessian2",
  "request metadata is not a string",
  "body ends inside request metadata",
  "body ends before all arguments",
  "body ends inside a value",
  "response flag is not an int",
  "unsupported response flag",
  "body ends before the response flag",
  "body ends before the response value",
  "response without value has trailing bytes",
  "error response without message",
  "error message is not a string",
  "empty event body",
];

/** The static text of a reason code ("" for R_NONE or an unknown code). */
export function reasonText(code: i32): string {
  return <u32>code < <u32>TEXTS.length ? unchecked(TEXTS[code]) : "";
}

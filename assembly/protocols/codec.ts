// The contract every codec follows (DESIGN §4): bytes in, one event out per call.
// A decoder is fed raw memory windows of the stream in order; it keeps its own state
// between calls so a message may be split at any byte.

/** Consumed everything it was given; needs more bytes to finish the current message. */
export const EV_NEED_MORE: i32 = 0;
/** A complete message ended at the returned offset; its metadata is readable until the next feed. */
export const EV_MESSAGE: i32 = 1;
/** The stream is not valid for this protocol; the decoder stays in error until reset. */
export const EV_ERROR: i32 = 2;

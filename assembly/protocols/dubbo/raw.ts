// Raw-memory helpers for the codec's @unmanaged state structs. Under the incremental runtime every
// use of a managed reference as a call operand (each method call on a managed `this` included) is
// spilled to the shadow stack; the decoder's hot state therefore lives in @unmanaged structs laid
// out in one StaticArray<u8> owned by the (managed) decoder, as the Redis codec does.

// @ts-ignore: decorator
@inline
export function align8(n: usize): usize {
  return (n + 7) & ~(<usize>7);
}

// Parameter count of a JVM method descriptor (ReflectUtils.getDesc, specs §2.2), fed one character
// at a time while the descriptor string streams by. The request body carries exactly this many
// argument values before the attachments map, so the count – not a scan for the first map – is what
// tells where the attachments start (an argument may itself be a map, vector D12).
//
// Rules as Envoy's getParametersNumber (its tests: "" → 0, "VZ[BBCDFIJS" → 10,
// "[V[Z[B[C[D[F[I[J[S" → 9, "abcdefg" → 0): each of V Z B C D F I J S counts one, `L…;` counts one
// (counted at the 'L', so an unterminated class name still counts), '[' and anything else count
// nothing, and characters inside `L…;` are not looked at. '/' and '.' separators parse alike.

// @ts-ignore: decorator
@unmanaged
export class DescriptorCounter {
  count: i32;
  inClass: bool;

  reset(): void {
    this.count = 0;
    this.inClass = false;
  }

  char(c: i32): void {
    if (this.inClass) {
      if (c == 0x3b) this.inClass = false; // ';'
      return;
    }
    switch (c) {
      case 0x56: // V
      case 0x5a: // Z
      case 0x42: // B
      case 0x43: // C
      case 0x44: // D
      case 0x46: // F
      case 0x49: // I
      case 0x4a: // J
      case 0x53: // S
        this.count++;
        return;
      case 0x4c: // L
        this.count++;
        this.inClass = true;
        return;
    }
  }

  /** n ASCII characters at p. */
  run(p: usize, n: i32): void {
    for (let k = 0; k < n; k++) this.char(<i32>load<u8>(p + <usize>k));
  }
}

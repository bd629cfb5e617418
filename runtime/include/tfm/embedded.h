/*===- tfm/embedded.h - what a compiled model's glue provides ---*- C++ -*-===*\
|*                                                                            *|
|* The one header the generated part of a compiled program includes: its     *|
|* host plan (as bytes) and its kernels' entry points, and the main() of     *|
|* executables. Installed with tfmc beside tfm/runtime.h.                    *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef TFM_EMBEDDED_H
#define TFM_EMBEDDED_H

#include <cstddef>

namespace tfm::rt {

/// A kernel's Halide argv entry point: buffers and scalars by pointer, the
/// output buffer last.
using KernelFunction = int (*)(void **);

/// What the generated part of a compiled program provides.
struct EmbeddedModel {
  /// The host plan's text, NUL-terminated.
  const char *planText;
  const KernelFunction *kernels;
  size_t numKernels;
};

/// The main() of compiled executables: the flags of `tfmc run` plus
/// --bench and --threads.
int programMain(int argc, char **argv, const EmbeddedModel &model);

} // namespace tfm::rt

#endif // TFM_EMBEDDED_H

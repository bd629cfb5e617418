//===- Link.h - glue + kernels + runtime → program or library ---*- C++ -*-===//

#ifndef TFM_COMPILER_LINK_LINK_H
#define TFM_COMPILER_LINK_LINK_H

#include "compiler/halide/Codegen.h"
#include "runtime/Plan.h"

#include <string>

namespace tfm::link {

enum class OutputKind { Executable, SharedLibrary, Objects };

/// What linking a program needs besides the kernels: the include folder
/// with tfm/embedded.h and the runtime library. Both sit beside tfmc's
/// folder (../include, ../lib) in the build tree and in an installed
/// prefix, so tfmc finds them wherever it was installed or moved to.
struct LinkResources {
  std::string includeDir;
  std::string runtimeLibrary;

  /// The resources of the tfmc at `executable`; an error names what is
  /// missing.
  static bool find(const std::string &executable, LinkResources &out,
                   std::string &error);
};

/// The C++ source that embeds the plan and the kernel table (and main()
/// for executables).
std::string glueSource(const rt::Plan &plan, OutputKind kind);

/// Compiles the glue in `workDir` and links it with the kernels, the Halide
/// runtime and tfm's runtime library into `output` (written aside and
/// renamed, so a failed link leaves no file). For Objects, `output` is a
/// directory that receives every object.
bool linkProgram(const rt::Plan &plan, const halide::CompiledModule &compiled,
                 const LinkResources &resources, OutputKind kind,
                 const std::string &workDir, const std::string &output,
                 std::string &error);

} // namespace tfm::link

#endif // TFM_COMPILER_LINK_LINK_H

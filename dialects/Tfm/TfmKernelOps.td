//===- TfmKernelOps.td - the kernel level of tfm -----------*- tablegen -*-===//
//
// The kernel level: tfm.kernel groups graph ops into one compiled kernel
// (with its phase, target and schedule); host functions call kernels with
// tfm.launch.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_KERNEL_OPS_TD
#define TFM_KERNEL_OPS_TD

include "dialects/Tfm/TfmDialect.td"
include "dialects/Tfm/TfmAttrs.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Tfm_KernelOp : Tfm_Op<"kernel", [Symbol, IsolatedFromAbove]> {
  let summary = "a group of graph ops compiled as one kernel";
  let description = [{
    The body computes its results (most kernels have one; a fused QKV
    projection has three) from the block arguments (tensors, index scalars
    and KV caches) with graph-level and fused ops; kernels are pure: a KV
    cache argument is read as it is, after the host's writes (a
    tfm.cached_attention in a kernel reads the cache the host wrote its
    keys and values into); the backend lowers it to one Halide
    pipeline. `phase` is `decode` (one token) or `prefill`. Schedule
    selection adds where the kernel runs (`target`, a #tfm.target) and
    the parameters of the schedule template that tiles it (`schedule`,
    one of #tfm.gemm, #tfm.gemv, #tfm.qkv, #tfm.attention,
    #tfm.flash_decode, #tfm.flash_prefill, #tfm.rows, #tfm.moe,
    #tfm.elementwise); code generation needs both. Layers that compute
    the same thing share one kernel.

    ```mlir
    tfm.kernel @decode_linear_0 decode on #tfm.target<cpu, isa = avx2>
        schedule #tfm.gemv<vector = 8, rows_per_task = 32> {
    ^bb0(%x: tensor<1x64xf32>, %w: tensor<64x64xf32>):
      %y = tfm.linear %x, %w : tensor<1x64xf32>, tensor<64x64xf32> -> tensor<1x64xf32>
      tfm.yield %y : tensor<1x64xf32>
    }
    ```
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, Tfm_PhaseAttr:$phase,
                       OptionalAttr<Tfm_TargetAttr>:$target,
                       OptionalAttr<Tfm_ScheduleAttrInterface>:$schedule);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $sym_name custom<EnumKeyword>($phase) (`on` $target^)?
    (`schedule` $schedule^)? attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
  let skipDefaultBuilders = 1;
  let builders = [
    OpBuilder<(ins "::llvm::StringRef":$name, "::mlir::tfm::Phase":$phase)>
  ];
  let extraClassDeclaration = [{
    ::mlir::Block &getBlock() { return getBody().front(); }
    /// The values the kernel computes (the yield's operands).
    ::mlir::OperandRange getResultValues();
    bool isDecode() { return getPhase() == ::mlir::tfm::Phase::decode; }
  }];
}

def Tfm_YieldOp : Tfm_Op<"yield", [Pure, Terminator, HasParent<"KernelOp">]> {
  let summary = "the result of a kernel";
  let arguments = (ins Variadic<AnyRankedTensor>:$values);
  let assemblyFormat = "attr-dict ($values^ `:` type($values))?";
}

def Tfm_LaunchOp : Tfm_Op<"launch", [Pure, AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "run a kernel";
  let description = [{
    Calls `kernel` on `args`. `dims` gives the size of every dynamic
    dimension of the results (result by result, outermost first), so the
    host can allocate them before the call.
  }];
  let arguments = (ins FlatSymbolRefAttr:$kernel, Variadic<AnyType>:$args,
                       Variadic<Index>:$dims);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $kernel `(` $args `)` (`dims` `(` $dims^ `)`)? attr-dict `:` functional-type($args, $results)
  }];
}

#endif // TFM_KERNEL_OPS_TD

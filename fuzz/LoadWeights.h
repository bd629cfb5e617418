//===- LoadWeights.h - weight loading for the fuzz targets --*- C++ -*-===//
//
// Loads `requests` from a fuzzer's file as a program would: once with every
// weight f32, then with the matrices kept as f16 and as bf16 (views of the
// file, repacking in 16 bits, or a refusal naming the tensor).
//
//===----------------------------------------------------------------------===//

#ifndef TFM_FUZZ_LOADWEIGHTS_H
#define TFM_FUZZ_LOADWEIGHTS_H

#include "runtime/Weights.h"

namespace tfm::fuzz {

inline void loadEveryWay(const std::string &path,
                         const std::vector<rt::WeightRequest> &requests,
                         const rt::WeightLayout &layout) {
  (void)rt::loadWeights(path, requests, layout);
  for (rt::DType storage : {rt::DType::F16, rt::DType::BF16}) {
    std::vector<rt::WeightRequest> narrow = requests;
    for (rt::WeightRequest &r : narrow)
      if (r.shape.size() == 2)
        r.storage = storage;
    (void)rt::loadWeights(path, narrow, layout);
  }
}

} // namespace tfm::fuzz

#endif // TFM_FUZZ_LOADWEIGHTS_H

//===- ModelSpec.cpp - derived values of a ModelSpec -*- C++ -*-===//

#include "compiler/frontend/ModelSpec.h"

#include <cmath>

using namespace tfm;

double ModelSpec::attentionScale() const {
  return attention.scale ? *attention.scale
                         : 1.0 / std::sqrt(double(headDim()));
}

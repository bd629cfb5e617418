//===- ModelSpec.cpp - spellings and derived values of a ModelSpec -*- C++ -*-===//

#include "compiler/frontend/ModelSpec.h"

#include <cmath>

using namespace tfm;

double ModelSpec::attentionScale() const {
  return attention.scale ? *attention.scale
                         : 1.0 / std::sqrt(double(headDim()));
}

const char *tfm::toString(NormKind v) {
  switch (v) {
  case NormKind::Rms: return "rms";
  case NormKind::Layer: return "layer";
  }
  return "?";
}

const char *tfm::toString(Activation v) {
  switch (v) {
  case Activation::Relu: return "relu";
  case Activation::Gelu: return "gelu";
  case Activation::GeluTanh: return "gelu_tanh";
  case Activation::Silu: return "silu";
  }
  return "?";
}

const char *tfm::toString(AbsolutePosition v) {
  switch (v) {
  case AbsolutePosition::None: return "none";
  case AbsolutePosition::Sinusoidal: return "sinusoidal";
  case AbsolutePosition::Learned: return "learned";
  }
  return "?";
}

const char *tfm::toString(NormPlacement v) {
  switch (v) {
  case NormPlacement::Pre: return "pre";
  case NormPlacement::Post: return "post";
  case NormPlacement::Sandwich: return "sandwich";
  case NormPlacement::PostSublayer: return "post_sublayer";
  }
  return "?";
}

const char *tfm::toString(QkNorm v) {
  switch (v) {
  case QkNorm::None: return "none";
  case QkNorm::PerHead: return "per_head";
  case QkNorm::Full: return "full";
  }
  return "?";
}

const char *tfm::toString(AttentionPosition v) {
  switch (v) {
  case AttentionPosition::None: return "none";
  case AttentionPosition::Rope: return "rope";
  case AttentionPosition::Alibi: return "alibi";
  case AttentionPosition::Relative: return "relative";
  }
  return "?";
}

const char *tfm::toString(RopeLayout v) {
  return v == RopeLayout::Half ? "half" : "interleaved";
}

const char *tfm::toString(RopeScaling v) {
  switch (v) {
  case RopeScaling::None: return "none";
  case RopeScaling::Linear: return "linear";
  case RopeScaling::Ntk: return "ntk";
  case RopeScaling::Llama3: return "llama3";
  }
  return "?";
}

const char *tfm::toString(FfnKind v) {
  return v == FfnKind::Glu ? "glu" : "mlp";
}

const char *tfm::toString(MoeScoring v) {
  return v == MoeScoring::Softmax ? "softmax" : "sigmoid";
}

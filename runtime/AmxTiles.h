//===- AmxTiles.h - the AMX tile configuration ------------------*- C++ -*-===//
//
// The 64-byte block ldtilecfg reads (palette 1), shared by the micro-kernels
// that drive AMX tiles (BfloatGemm.cpp, QuantGemm.cpp). Each kernel loads
// its own configuration at the start of a call and releases the tiles at
// its end, so calls of either kind may follow each other on a thread.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_RUNTIME_AMXTILES_H
#define TFM_RUNTIME_AMXTILES_H

#include <cstdint>

namespace tfm::rt {

struct alignas(64) TileConfig {
  uint8_t palette = 1, startRow = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};

  /// Tile `tile` holds `rows` rows of `bytes` bytes.
  void set(int tile, int rowCount, int bytes) {
    colsb[tile] = uint16_t(bytes);
    rows[tile] = uint8_t(rowCount);
  }
};

} // namespace tfm::rt

#endif // TFM_RUNTIME_AMXTILES_H

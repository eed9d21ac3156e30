#include "bench/compare_cells.h"

#include <algorithm>

#include "bench/store_cells.h"
#include "bench/store_load.h"

namespace ctxstore::bench {
namespace {

// A datapath cell on its own server: the server `run` starts for the
// section, with as many clients, and for a GET the same preloaded data set.
Result<LoadResult> MeasureDataPathCell(BenchContext& ctx, bool get, uint64_t size, uint32_t conns) {
  Result<StoreServer> server = StartWarmServer(ctx, "datapath", DataPathServerArgs(ctx));
  if (!server.ok()) return server.status();
  auto clients = Connect(*server, DataPathClients(ctx));
  if (!clients.ok()) return clients.status();
  if (!get) return DataPathPut(ctx, *clients, size, conns);
  Result<uint64_t> count = DataPathLoadGetSet(ctx, *clients, size);
  if (!count.ok()) return count.status();
  return DataPathGet(ctx, *clients, size, *count, conns);
}

// A flash cell on a server of its own: the sync PUTs alone, or the GET data
// set then its GETs (in `run` these follow the sync PUTs on one server).
Result<LoadResult> MeasureFlashCell(BenchContext& ctx, bool get, bool sealed) {
  Result<FlashServer> flash = OpenFlashServer(ctx, sealed);
  if (!flash.ok()) return flash.status();
  if (!get) return FlashSyncPut(ctx, *flash);
  Result<uint64_t> count = FlashLoadGetSet(*flash);
  if (!count.ok()) return count.status();
  return FlashGet(ctx, *flash, *count);
}

Result<LoadResult> MeasureSmallCell(BenchContext& ctx, const SmallOpInfo& op) {
  Result<StoreServer> server = StartWarmServer(ctx, "small", SmallOpsServerArgs());
  if (!server.ok()) return server.status();
  auto clients = Connect(*server, 1);
  if (!clients.ok()) return clients.status();
  Client& c = *(*clients)[0];
  Result<std::vector<std::string>> keys = LoadSmallOpChain(c);
  if (!keys.ok()) return keys.status();
  return MeasureSmallOp(ctx, op, c, *keys);
}

std::string CellName(const std::string& op, uint64_t size, uint32_t conns, bool sealed) {
  return op + " " + SizeLabel(size) + " x" + std::to_string(conns) + (sealed ? " (sealed)" : "");
}

void AddDataPathCells(const BenchContext& ctx, std::vector<CompareCell>* cells) {
  for (uint64_t size : ctx.value_sizes) {
    for (bool get : {false, true}) {
      for (uint32_t conns : ctx.connections) {
        CompareCell c{.section = "datapath", .op = get ? "get" : "put"};
        c.name = CellName(c.op, size, conns, false);
        c.value_bytes = size;
        c.connections = conns;
        c.measure = [get, size, conns](BenchContext& x) {
          return MeasureDataPathCell(x, get, size, conns);
        };
        cells->push_back(std::move(c));
      }
    }
  }
}

void AddFlashCells(const BenchContext& ctx, std::vector<CompareCell>* cells) {
  for (bool sealed : {false, true}) {
    for (bool get : {false, true}) {
      CompareCell c{.section = "flash", .op = get ? "flash_get" : "sync_put"};
      c.value_bytes = kFlashValueBytes;
      c.connections = FlashConnections(ctx);
      c.sealed = sealed;
      c.name = CellName(c.op, c.value_bytes, c.connections, sealed);
      c.measure = [get, sealed](BenchContext& x) { return MeasureFlashCell(x, get, sealed); };
      cells->push_back(std::move(c));
    }
  }
}

void AddSmallCells(std::vector<CompareCell>* cells) {
  for (const SmallOpInfo& op : SmallOpList()) {
    CompareCell c{.section = "small", .name = op.name, .op = op.name};
    c.keys = op.keys;
    c.ops_metric = true;
    c.measure = [op](BenchContext& x) { return MeasureSmallCell(x, op); };
    cells->push_back(std::move(c));
  }
}

}  // namespace

const std::vector<std::string>& CompareSectionNames() {
  static const std::vector<std::string> kNames = {"datapath", "flash", "small"};
  return kNames;
}

std::vector<CompareCell> CompareCells(const BenchContext& ctx,
                                      const std::vector<std::string>& sections) {
  auto selected = [&](const char* name) {
    return std::find(sections.begin(), sections.end(), name) != sections.end();
  };
  std::vector<CompareCell> cells;
  if (selected("datapath")) AddDataPathCells(ctx, &cells);
  if (selected("flash")) AddFlashCells(ctx, &cells);
  if (selected("small")) AddSmallCells(&cells);
  return cells;
}

}  // namespace ctxstore::bench

#include "testing/name_journal.h"

namespace ctxstore::engine {

std::string NormalizeDir(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  return d;
}

std::string NameDirOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return NormalizeDir(path.substr(0, slash));
}

void NameJournal::Created(const std::string& path) {
  pending_[NameDirOf(path)].push_back({.kind = Kind::kCreate, .path = path});
}

Status NameJournal::Remove(const std::string& path, TrackedFiles* files) {
  Change change{.kind = Kind::kRemove, .path = path};
  Save(path, *files, &change);
  CTX_RETURN_IF_ERROR(base_->Remove(path));
  files->erase(path);
  pending_[NameDirOf(path)].push_back(std::move(change));
  return Status::Ok();
}

Status NameJournal::Rename(const std::string& from, const std::string& to, TrackedFiles* files) {
  Change change{.kind = Kind::kRename, .path = to, .from = from};
  Save(to, *files, &change);
  CTX_RETURN_IF_ERROR(base_->Rename(from, to));
  auto it = files->find(from);
  if (it == files->end()) {
    files->erase(to);  // replaced by an untracked (durable) file
  } else {
    (*files)[to] = it->second;
    files->erase(it);
  }
  pending_[NameDirOf(to)].push_back(std::move(change));
  return Status::Ok();
}

void NameJournal::Synced(const std::string& dir) {
  pending_.erase(NormalizeDir(dir));
}

uint64_t NameJournal::pending() const {
  uint64_t n = 0;
  for (const auto& [dir, changes] : pending_) n += changes.size();
  return n;
}

uint64_t NameJournal::UndoAtCrash(std::mt19937_64& rng, TrackedFiles* files) {
  uint64_t undone = 0;
  for (const auto& [dir, changes] : pending_) {  // in directory order: reproducible draws
    const uint64_t n = changes.size();
    const uint64_t keep = rng() % 2 == 0 ? 0 : rng() % (n + 1);
    for (uint64_t i = n; i > keep; --i) Undo(changes[i - 1], files);  // newest first
    undone += n - keep;
  }
  pending_.clear();
  return undone;
}

void NameJournal::Save(const std::string& path, const TrackedFiles& files, Change* change) {
  if (!base_->FileExists(path)) return;
  auto content = base_->ReadFile(path);
  if (!content.ok()) return;
  auto it = files.find(path);
  // A file the device never tracked was there before it: durable as it stands.
  change->old_state = it != files.end() ? it->second : TrackedFile{content->size()};
  change->old_content = std::move(*content);
}

void NameJournal::Undo(const Change& change, TrackedFiles* files) {
  switch (change.kind) {
    case Kind::kCreate:
      if (base_->FileExists(change.path)) (void)base_->Remove(change.path);
      files->erase(change.path);
      return;
    case Kind::kRename:
      if (base_->FileExists(change.path) && base_->Rename(change.path, change.from).ok()) {
        auto it = files->find(change.path);
        if (it != files->end()) {
          (*files)[change.from] = it->second;
          files->erase(it);
        }
      }
      if (change.old_content) Restore(change.path, *change.old_content, change.old_state, files);
      return;
    case Kind::kRemove:
      if (change.old_content) Restore(change.path, *change.old_content, change.old_state, files);
      return;
  }
}

void NameJournal::Restore(const std::string& path, const std::string& content,
                          const TrackedFile& state, TrackedFiles* files) {
  OpenOptions opts;
  opts.create = true;
  opts.truncate = true;  // a buffered open: the old size need not suit O_DIRECT
  auto file = base_->Open(path, opts);
  if (!file.ok()) return;
  if (!content.empty()) {
    iovec v{const_cast<char*>(content.data()), content.size()};
    if (!(*file)->WriteV(0, std::span<const iovec>(&v, 1)).ok()) return;
  }
  (*files)[path] = state;
}

}  // namespace ctxstore::engine

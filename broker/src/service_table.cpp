#include "service_table.h"

#include <algorithm>

#include <strata/core/service_name.h>

namespace strata::broker {

Service* ServiceTable::find(std::string_view name) {
  auto it = services_.find(name);
  return it == services_.end() ? nullptr : it->second.get();
}

const Service* ServiceTable::find(std::string_view name) const {
  auto it = services_.find(name);
  return it == services_.end() ? nullptr : it->second.get();
}

Service& ServiceTable::named(std::string_view name) {
  if (Service* known = find(name)) return *known;
  auto service = std::make_unique<Service>();
  service->name = std::string(name);
  return *services_.emplace(service->name, std::move(service)).first->second;
}

Worker* ServiceTable::worker(const PeerId& peer) {
  auto it = workers_.find(peer);
  return it == workers_.end() ? nullptr : it->second.get();
}

std::optional<std::string> ServiceTable::refusal(const core::Identity& who, const codecs::Ready& ready) const {
  if (who.layer == core::kMaxLayer) return "layer 4 may not offer services";
  for (auto name : ready.services) {
    if (auto problem = core::serviceNameProblem(name)) return *problem;
    const Service* s = find(name);
    if (s && s->layer >= 0 && !s->workers.empty() && s->layer != who.layer) {
      return "service '" + std::string(name) + "' is offered at layer " + std::to_string(s->layer);
    }
  }
  return std::nullopt;
}

Worker& ServiceTable::add(const PeerId& peer, const core::Identity& who, const codecs::Ready& ready,
                          core::TimePoint now) {
  auto worker = std::make_unique<Worker>();
  worker->peer = peer;
  worker->name = who.name;
  worker->layer = who.layer;
  worker->credit = ready.credit;
  worker->heartbeat = std::chrono::milliseconds(ready.heartbeatMs);
  worker->lastSeen = now;
  for (auto name : ready.services) {
    Service& service = named(name);
    if (std::find(worker->services.begin(), worker->services.end(), &service) != worker->services.end()) continue;
    service.layer = who.layer;
    service.workers.push_back(worker.get());
    worker->services.push_back(&service);
  }
  return *workers_.emplace(peer, std::move(worker)).first->second;
}

std::unique_ptr<Worker> ServiceTable::detach(const PeerId& peer) {
  auto it = workers_.find(peer);
  if (it == workers_.end()) return nullptr;
  auto worker = std::move(it->second);
  workers_.erase(it);
  for (Service* s : worker->services) {
    auto& ws = s->workers;
    ws.erase(std::remove(ws.begin(), ws.end(), worker.get()), ws.end());
    if (s->next >= ws.size()) s->next = 0;
  }
  return worker;
}

Worker* ServiceTable::choose(Service& service) {
  for (std::size_t n = 0; n < service.workers.size(); ++n) {
    Worker* candidate = service.workers[(service.next + n) % service.workers.size()];
    if (candidate->credit > 0) {
      service.next = (service.next + n + 1) % service.workers.size();
      return candidate;
    }
  }
  return nullptr;
}

void ServiceTable::returnCredit(Worker& worker, const core::MessageId& id) {
  if (auto slot = worker.outstanding.find(id); slot != worker.outstanding.end()) {
    worker.outstanding.erase(slot);
    ++worker.credit;
  }
}

void ServiceTable::addCredit(Worker& worker, std::uint32_t credit) {
  worker.credit = std::min<std::uint32_t>(worker.credit + credit, codecs::kMaxCredit);
}

std::vector<ServiceInfo> ServiceTable::infos(bool everyCounted) const {
  std::vector<ServiceInfo> out;
  for (const auto& [name, s] : services_) {
    bool idle = s->workers.empty() && s->queued == 0;
    if (idle && !(everyCounted && s->counters.requests > 0)) continue;
    out.push_back({name, s->workers.size(), s->queued, s->inFlight, s->counters});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

}  // namespace strata::broker

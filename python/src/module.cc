// twotower._core: the C++ core as a Python module. Thin: each function hands its arguments to the
// code the CLI runs (run_cli, the train subcommand's run_train) with the GIL released, and
// returns JSON text that twotower/__init__.py turns into dicts. twotower::Error becomes
// twotower._core.Error (a RuntimeError) carrying the C++ message.
#include <torch/extension.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>

#include "cli.h"
#include "train_command.h"
#include "twotower/common/error.h"
#include "twotower/serve/service_factory.h"
#include "twotower/train/data_parallel.h"

namespace py = pybind11;

namespace twotower::python {
namespace {

// A torch.distributed process group (None: one process), as the trainer takes it.
cli::CliContext context_of(const py::object& group) {
  cli::CliContext context;
  if (!group.is_none()) context.group = share_group(group.cast<c10::intrusive_ptr<c10d::ProcessGroup>>());
  return context;
}

/// `python -m twotower ARGS`: the CLI's exit code; messages on stderr as the program prints them.
int run_cli_args(const std::vector<std::string>& args, const py::object& group) {
  const cli::CliContext context = context_of(group);
  std::vector<std::string> owned{"twotower"};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : owned) argv.push_back(arg.data());
  argv.push_back(nullptr);
  py::gil_scoped_release release;
  return cli::run_cli(static_cast<int>(owned.size()), argv.data(), context);
}

void run_command(const std::vector<std::string>& args) {
  py::gil_scoped_release release;
  cli::run_cli_or_throw(args);
}

// After each step and between epochs (after the checkpoint), a pending Ctrl-C raises
// KeyboardInterrupt out of the trainer, so the run stops resumable from its last checkpoint.
void raise_pending_signals() {
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

std::string train(const std::string& config_path, const std::string& config_yaml, const std::string& source,
                  const std::vector<std::string>& overrides, bool resume, bool eval, const py::object& group) {
  const cli::CliContext context = context_of(group);
  TrainSummary summary;
  std::string run_dir;
  {
    py::gil_scoped_release release;
    const Config config = config_path.empty() ? parse_config(config_yaml, source, overrides)
                                              : load_config(config_path, overrides);
    TrainOptions options;
    options.resume = resume;
    options.after_epoch = [](int64_t /*epoch*/) { raise_pending_signals(); };
    options.between_steps = raise_pending_signals;
    options.group = context.group;
    summary = cli::run_train(config, options, eval);
    run_dir = config.training.output_dir;
  }
  nlohmann::json result{{"run_dir", run_dir},
                        {"history", summary.history},
                        {"best_epoch", summary.best_epoch},
                        {"best_value", summary.best_value},
                        {"epochs_done", summary.epochs_done},
                        {"stopped_early", summary.stopped_early},
                        {"pairs_per_second", summary.pairs_per_second}};
  return result.dump();
}

py::list to_list(const std::vector<Recommendation>& items) {
  py::list out;
  for (const Recommendation& r : items) {
    out.append(py::dict(py::arg("item_id") = r.item_id, py::arg("title") = r.title, py::arg("score") = r.score));
  }
  return out;
}

py::dict recommend(const RecommendService& service, const std::string& user_id,
                   const std::vector<std::string>& history, int64_t k, bool exclude_seen,
                   const std::vector<std::string>& exclude) {
  RecommendRequest request{user_id, history, k, exclude_seen, exclude};
  RecommendResult result;
  {
    py::gil_scoped_release release;
    result = service.recommend(request);
  }
  return py::dict(py::arg("items") = to_list(result.items), py::arg("source") = to_string(result.source));
}

py::list similar(const RecommendService& service, const std::string& item_id, int64_t k) {
  std::vector<Recommendation> items;
  {
    py::gil_scoped_release release;
    items = service.similar(item_id, k);
  }
  return to_list(items);
}

py::dict info(const RecommendService& service) {
  const ExportInfo i = service.info();
  return py::dict(py::arg("version") = i.version, py::arg("path") = i.path, py::arg("num_users") = i.num_users,
                  py::arg("num_items") = i.num_items, py::arg("dim") = i.dim, py::arg("index_kind") = i.index_kind);
}

std::shared_ptr<RecommendService> load(const std::string& export_dir, const std::string& version,
                                       const std::string& index_kind) {
  py::gil_scoped_release release;
  return load_recommend_service(export_dir, version, index_kind);
}

}  // namespace
}  // namespace twotower::python

PYBIND11_MODULE(_core, m) {
  using namespace twotower::python;
  m.doc() = "The C++ core of twotower; use the functions of the twotower package.";
  py::register_exception<twotower::Error>(m, "Error", PyExc_RuntimeError);
  py::register_exception<twotower::NotFoundError>(m, "NotFoundError", PyExc_KeyError);
  py::class_<twotower::RecommendService, std::shared_ptr<twotower::RecommendService>>(
      m, "RecommendService", "A loaded export (serve/recommend_service.h); twotower.load_export wraps it.")
      .def("recommend", &recommend, py::arg("user_id"), py::arg("history"), py::arg("k"), py::arg("exclude_seen"),
           py::arg("exclude"))
      .def("similar", &similar, py::arg("item_id"), py::arg("k"))
      .def("info", &info);
  // The defaults of every front end (serve/recommend_service.h), for the Python signatures.
  m.attr("DEFAULT_K") = twotower::kDefaultK;
  m.attr("DEFAULT_EXCLUDE_SEEN") = twotower::RecommendRequest().exclude_seen;
  m.def("load_export", &load, py::arg("export_dir"), py::arg("version"), py::arg("index_kind"),
        "Loads an export folder (its newest version for version \"\") with an exact or hnsw index.");
  m.def("run_cli", &run_cli_args, py::arg("args"), py::arg("group") = py::none(),
        "Runs the twotower CLI on args (without the program name); returns its exit code. `train` "
        "trains data-parallel over `group` (a torch.distributed ProcessGroup) when one is given.");
  m.def("run_command", &run_command, py::arg("args"),
        "Runs one CLI subcommand; raises Error (bad flags included) instead of printing it.");
  m.def("train", &train, py::arg("config_path"), py::arg("config_yaml"), py::arg("source"),
        py::arg("overrides"), py::arg("resume"), py::arg("eval"), py::arg("group") = py::none(),
        "Trains from a YAML file (config_path) or YAML text (config_yaml, named source in messages); "
        "returns the summary as JSON text.");
}

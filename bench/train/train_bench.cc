#include "train/train_bench.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "train/gemm_rate.h"
#include "train/machine.h"
#include "train/model_flops.h"
#include "twotower/common/error.h"
#include "twotower/config/config.h"
#include "twotower/data/dataset.h"
#include "twotower/data/generator.h"
#include "twotower/data/npy.h"
#include "twotower/data/text_embeddings.h"
#include "twotower/data/prepare.h"
#include "twotower/train/gpu/kernel_share.h"
#include "twotower/train/gpu/step_trace.h"
#include "twotower_build_paths.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

constexpr int kWarmupEpochs = 1;  // epoch 1 warms up (allocator, thread pools, caches); epoch 2 is measured
constexpr int64_t kDeviceTraceSteps = 20;  // steps traced on a GPU by default

struct SystemResult {
  std::string name;
  double pairs_per_s = 0;     // measured epoch
  double epoch_seconds = 0;   // measured epoch (max_steps batches)
  int64_t pairs = 0;          // pairs of the measured epoch
  int64_t peak_rss_kib = 0;
  double device_peak_mib = -1;  // a device run's (torch.cuda.max_memory_allocated); -1: none
  double kernel_share = 0;      // with a trace of the warm-up epoch's steps: the share of their time in
                                // which the GPU ran kernels (kernel_share.h)
  int64_t kernels = 0;          // and how many ran
};

std::string fixed(double v, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", digits, v);
  return text;
}

std::string thousands(double value) {
  std::string digits = std::to_string(static_cast<int64_t>(std::llround(value))), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0 && digits[i - 1] != '-') out += ',';
    out += digits[i];
  }
  return out;
}

// Generates a RecBole data set (reviews.inter + reviews.item, the catalogue) and prepares it.
fs::path generate_and_prepare(const TrainBenchOptions& o, std::ostream& out) {
  GeneratorOptions g;
  g.users = o.generate_users;
  g.items = o.generate_items;
  g.reviews = o.generate_interactions;
  if (g.reviews < 3 * g.users) {
    out << "note: the generator gives every user at least 3 interactions: " << thousands(static_cast<double>(g.reviews))
        << " -> " << thousands(3.0 * static_cast<double>(g.users)) << " interactions\n";
    g.reviews = 3 * g.users;
  }
  g.format = ReviewFormat::kRecBoleInter;
  g.gzip = false;
  g.review_words = 0;
  GeneratedFiles files = generate_dataset(g, o.work_dir / "generated");
  PrepareOptions p;
  p.reviews = files.reviews;
  p.meta = files.meta;
  p.out = o.work_dir / "prepared";
  p.overwrite = true;
  prepare(p);
  return p.out;
}

// The prepared interactions as a RecBole .inter (user and item indices as tokens), so that the
// reference reads exactly the rows twotower trains on; returns the items in order of first
// appearance (the row order the reference expects of --text-emb).
std::vector<int64_t> write_inter(const Dataset& data, const fs::path& path) {
  std::ofstream f(path);
  if (!f) fail(path.string(), ": cannot open for writing");
  f << "user_id:token\titem_id:token\ttimestamp:float\n";
  const Interactions& x = data.interactions;
  std::vector<bool> seen(static_cast<size_t>(data.num_items()), false);
  std::vector<int64_t> order;
  for (size_t r = 0; r < x.size(); ++r) {
    f << x.user[r] << '\t' << x.item[r] << '\t' << x.timestamp[r] << '\n';
    auto i = static_cast<size_t>(x.item[r]);
    if (!seen[i]) {
      seen[i] = true;
      order.push_back(x.item[r]);
    }
  }
  if (!f) fail(path.string(), ": write failed");
  return order;
}

// The kernel share of a system's trace.
void set_kernels(SystemResult& r, const fs::path& trace) {
  const KernelShare k = read_kernel_share(trace);
  r.kernel_share = k.share();
  r.kernels = k.kernels;
}

SystemResult run_twotower(const TrainBenchOptions& o, const fs::path& data, std::ostream& out) {
  fs::path run_dir = o.work_dir / "twotower";
  fs::remove_all(run_dir);
  // --no-eval, as the reference runs: the full-catalogue validation ranking is not training.
  // The `twotower` program of this build (the benchmarks are a program of their own).
  const std::string cli = TWOTOWER_CLI;
  if (cli.empty()) fail("bench train: this build has no twotower program, expected one to train with");
  std::vector<std::string> argv{cli, "train", "--no-eval", "--config", o.config.string()};
  for (const auto& s : o.overrides) argv.push_back(s);
  for (const std::string& s :
       {"data.data_path=" + data.string(), std::string("data.train_splits=[train, valid]"),
        "training.num_epochs=" + std::to_string(kWarmupEpochs + 1),
        "training.max_steps_per_epoch=" + std::to_string(o.max_steps), "training.threads=" + std::to_string(o.threads),
        "training.device=" + o.device, std::string("training.early_stopping_patience=0"), std::string("training.best_metric=train_loss"),
        "training.output_dir=" + run_dir.string()}) {
    argv.push_back(s);
  }
  if (o.trace_steps > 0) argv.push_back("training.trace_steps=" + std::to_string(o.trace_steps));
  fs::path log = o.work_dir / "twotower.log";
  fs::remove(log);
  std::string shown;
  for (size_t i = 1; i < argv.size(); ++i) shown += " " + argv[i];
  out << "twotower:  twotower" << shown << "\n" << std::flush;
  ChildResult child = run_child(argv, log);
  if (child.exit_code != 0) fail("twotower train exited with ", child.exit_code, "; the end of ", log.string(), ":", log_tail(log));
  nlohmann::json history = read_json_file(run_dir / "history.json");
  const auto& epoch = history.at("epochs").at(kWarmupEpochs);
  SystemResult r;
  r.name = "twotower";
  r.epoch_seconds = epoch.at("seconds").get<double>();
  r.pairs_per_s = epoch.at("pairs_per_s").get<double>();
  r.pairs = static_cast<int64_t>(std::llround(r.pairs_per_s * r.epoch_seconds));
  r.peak_rss_kib = child.peak_rss_kib;
  r.device_peak_mib = epoch.value("device_peak_mib", -1.0);
  if (o.trace_steps > 0) set_kernels(r, run_dir / "trace.json");
  return r;
}

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// The reference's command: seed_reference.py run unchanged inside bench/reference_probe.py, which
// adds its device memory and, with o.trace_steps, its trace into `trace`.
std::vector<std::string> reference_argv(const TrainBenchOptions& o, const Config& c, const fs::path& inter,
                                        const fs::path& text, const fs::path& trace) {
  fs::path python = TWOTOWER_PYTHON;
  fs::path script = fs::path(TWOTOWER_SOURCE_DIR) / ".." / "shared" / "reference" / "seed_reference.py";
  if (!fs::exists(script)) fail("the reference system ", script.lexically_normal().string(), " does not exist");
  const TrainingConfig& t = c.training;
  std::vector<std::string> argv{python.string(), (fs::path(TWOTOWER_SOURCE_DIR) / "bench" / "reference_probe.py").string()};
  if (o.trace_steps > 0) {
    for (const std::string& s : {std::string("--trace"), trace.string(), std::string("--trace-steps"),
                                 std::to_string(o.trace_steps), std::string("--trace-after"),
                                 std::to_string(StepTrace::kWarmupSteps)}) {
      argv.push_back(s);
    }
  }
  const std::vector<std::string> reference{"--", script.lexically_normal().string(), inter.string(),
                                "--epochs", std::to_string(kWarmupEpochs + 1), "--max-steps", std::to_string(o.max_steps),
                                "--no-eval", "--threads", std::to_string(o.threads), "--device", o.device,
                                "--neg-ratio", std::to_string(c.data.neg_ratio), "--batch", std::to_string(t.batch_size),
                                "--dropout", number(c.model.dropout), "--logit-scale", number(t.logit_scale),
                                "--emb-lr", number(t.embedding_learning_rate > 0 ? t.embedding_learning_rate : t.learning_rate),
                                "--emb-init-std", number(c.model.embedding_init_std), "--seed", std::to_string(c.data.seed)};
  argv.insert(argv.end(), reference.begin(), reference.end());
  if (!o.reference_compile.empty()) {
    argv.emplace_back("--compile");
    argv.push_back(o.reference_compile);
  }
  if (!c.model.last_layer_activation) argv.emplace_back("--final-linear");
  if (!c.model.output_layer) argv.emplace_back("--no-output-layer");
  if (!text.empty()) {
    argv.emplace_back("--text-emb");
    argv.push_back(text.string());
  }
  return argv;
}

SystemResult run_reference(const TrainBenchOptions& o, const Config& c, const fs::path& inter,
                           const fs::path& text, std::ostream& out) {
  const fs::path trace = o.work_dir / "reference_trace.json";
  fs::remove(trace);
  const std::vector<std::string> argv = reference_argv(o, c, inter, text, trace);
  fs::path log = o.work_dir / "reference.log";
  fs::remove(log);
  std::string shown;
  for (size_t i = 0; i < argv.size(); ++i) shown += (i ? " " : "") + argv[i];
  out << "reference: " << shown << "\n" << std::flush;
  ChildResult child = run_child(argv, log);
  if (child.exit_code != 0) fail("the reference exited with ", child.exit_code, "; the end of ", log.string(), ":", log_tail(log));
  std::ifstream in(log);
  std::vector<nlohmann::json> epochs;
  double device_peak_mib = -1;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("{\"epoch\"", 0) == 0) epochs.push_back(nlohmann::json::parse(line));
    if (line.rfind("{\"probe\"", 0) == 0) {
      device_peak_mib = nlohmann::json::parse(line)["probe"].value("device_peak_mib", device_peak_mib);
    }
  }
  if (epochs.size() <= static_cast<size_t>(kWarmupEpochs)) fail(log.string(), ": expected ", kWarmupEpochs + 1, " epoch lines");
  const auto& e = epochs[kWarmupEpochs];
  SystemResult r;
  r.name = "reference";
  r.epoch_seconds = e.at("seconds").get<double>();
  r.pairs_per_s = e.at("pos_per_s").get<double>() * static_cast<double>(1 + c.data.neg_ratio);
  r.pairs = static_cast<int64_t>(std::llround(r.pairs_per_s * r.epoch_seconds));
  r.peak_rss_kib = child.peak_rss_kib;
  r.device_peak_mib = device_peak_mib;
  if (o.trace_steps > 0) {
    if (!fs::exists(trace)) fail("the reference wrote no trace ", trace.string(), "; the end of ", log.string(), ":", log_tail(log));
    set_kernels(r, trace);
  }
  return r;
}

// The middle value (the mean of the two middle ones for an even count).
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Median pairs/s, epoch time and kernel share over rounds, the largest peak RSS and device memory.
SystemResult median_result(const std::vector<SystemResult>& rounds) {
  SystemResult r = rounds.front();
  std::vector<double> rate, seconds, share;
  for (const auto& x : rounds) {
    rate.push_back(x.pairs_per_s);
    seconds.push_back(x.epoch_seconds);
    share.push_back(x.kernel_share);
    r.peak_rss_kib = std::max(r.peak_rss_kib, x.peak_rss_kib);
    r.device_peak_mib = std::max(r.device_peak_mib, x.device_peak_mib);
  }
  r.pairs_per_s = median(rate);
  r.epoch_seconds = median(seconds);
  r.kernel_share = median(share);
  return r;
}

// "93.1% (1,234 kernels)", or what a trace without kernels holds.
std::string kernel_text(const SystemResult& r) {
  if (r.kernels == 0) return "no GPU kernels";
  return fixed(100 * r.kernel_share, 1) + "% (" + thousands(static_cast<double>(r.kernels)) + " kernels)";
}

// Differences the reference cannot express: printed, so a reader knows what the ratio compares.
std::vector<std::string> departures(const Config& c) {
  std::vector<std::string> d;
  const TrainingConfig& t = c.training;
  if (t.optimizer != OptimizerKind::kAdam) d.push_back("optimizer " + std::string(to_string(t.optimizer)));
  if (t.learning_rate != 1e-3) d.push_back("learning_rate " + number(t.learning_rate));
  if (t.weight_decay != 1e-5) d.push_back("weight_decay " + number(t.weight_decay));
  if (t.clip_grad_norm != 1.0) d.push_back("clip_grad_norm " + number(t.clip_grad_norm));
  if (c.model.embedding_dim != 128) d.push_back("embedding_dim " + number(static_cast<double>(c.model.embedding_dim)));
  if (c.model.user_mlp_hidden != std::vector<int64_t>{256, 128} || c.model.item_mlp_hidden != std::vector<int64_t>{256, 128}) {
    d.push_back("hidden layers");
  }
  if (!c.model.use_item_id || !c.model.use_category || !c.model.use_brand || !c.model.use_text) d.push_back("item inputs");
  if (t.matmul_precision != MatmulPrecision::kFp32) d.push_back("matmul_precision " + std::string(to_string(t.matmul_precision)));
  return d;
}

// The medians' table, and on the CPU the GEMM bounds (gemm_gflops 0: a GPU run, none).
struct MedianTable {
  SystemResult ours, ref;
  double epoch_pairs;
  PairFlops flops;
  double gemm_gflops, onednn_gflops;
};

void print_medians(const TrainBenchOptions& o, const MedianTable& t, std::ostream& out) {
  const bool bounds = t.gemm_gflops > 0;
  const double bound = t.gemm_gflops * 1e9 / t.flops.training, onednn_bound = t.onednn_gflops * 1e9 / t.flops.training;
  out << "\nmedians of " << o.rounds << " round" << (o.rounds > 1 ? "s" : "") << " on " << o.device
      << " (peak RSS: the largest)\n";
  out << "system      pairs/s   measured epoch (" << o.max_steps << " steps) s   full epoch (est.) s   peak RSS MiB"
      << (bounds ? "   GEMM bound (torch mm)   (oneDNN)" : "") << "\n";
  for (const SystemResult* r : {&t.ours, &t.ref}) {
    char line[256];
    std::snprintf(line, sizeof line, "%-10s %8s %27.2f %21.1f %14.0f", r->name.c_str(), thousands(r->pairs_per_s).c_str(),
                  r->epoch_seconds, t.epoch_pairs / r->pairs_per_s, static_cast<double>(r->peak_rss_kib) / 1024.0);
    out << line;
    if (bounds) {
      std::snprintf(line, sizeof line, " %22.1f%% %9.1f%%", 100.0 * r->pairs_per_s / bound,
                    100.0 * r->pairs_per_s / onednn_bound);
      out << line;
    }
    out << "\n";
  }
  for (const SystemResult* r : {&t.ours, &t.ref}) {
    if (r->device_peak_mib < 0) continue;
    out << r->name << ": device peak " << fixed(r->device_peak_mib, 1)
        << " MiB allocated (torch.cuda.max_memory_allocated)\n";
  }
  if (o.trace_steps > 0) {
    out << "kernel share (steps " << StepTrace::kWarmupSteps + 1 << "-" << StepTrace::kWarmupSteps + o.trace_steps
        << " of epoch 1 traced, GPU busy time over the span of its kernels, median): twotower " << kernel_text(t.ours)
        << ", reference " << kernel_text(t.ref) << "\n";
  }
  if (!bounds) return;
  out << "\ngemm: " << fixed(t.gemm_gflops, 1) << " GFLOP/s (LibTorch fp32 mm 1024x1024x1024, the reference's layers), "
      << fixed(t.onednn_gflops, 1) << " GFLOP/s (oneDNN, twotower's layers), " << o.threads << " threads\n";
  out << "model: " << fixed(t.flops.forward / 1e6, 3) << " MFLOP per pair forward, " << fixed(t.flops.training / 1e6, 3)
      << " MFLOP with backward; GEMM bound " << thousands(bound) << " pairs/s (torch mm), " << thousands(onednn_bound)
      << " (oneDNN)\n";
}

// The traced steps must lie inside epoch 1 of both systems: a trace asked for is refused when they
// do not, the default one is dropped with a note.
void check_trace_fits(TrainBenchOptions& o, bool asked, int64_t training_rows, int64_t batch_size, std::ostream& out) {
  if (o.trace_steps == 0) return;
  const int64_t batches = std::min(o.max_steps, (training_rows + batch_size - 1) / batch_size);
  if (batches >= StepTrace::kWarmupSteps + o.trace_steps) return;
  if (asked) {
    fail("--trace-steps: got ", o.trace_steps, " with ", batches, " steps per epoch, expected at most ",
         std::max<int64_t>(0, batches - StepTrace::kWarmupSteps), " (the first ", StepTrace::kWarmupSteps,
         " steps are not traced; --max-steps and the data set the epoch's steps)");
  }
  out << "note: no kernel share: an epoch of " << batches << " steps is too short for " << o.trace_steps << " traced steps after "
      << StepTrace::kWarmupSteps << "\n";
  o.trace_steps = 0;
}

}  // namespace

void run_train_bench(const TrainBenchOptions& options, std::ostream& out) {
  TrainBenchOptions o = options;
  if (o.trace_steps < 0) o.trace_steps = o.device == "cuda" ? kDeviceTraceSteps : 0;
  if (o.threads < 1) fail("--threads: got ", o.threads, ", expected at least 1");
  if (o.max_steps < 1) fail("--max-steps: got ", o.max_steps, ", expected at least 1");
  if (o.rounds < 1) fail("--rounds: got ", o.rounds, ", expected at least 1");
  if (o.device != "cpu" && o.device != "cuda") fail("--device: got \"", o.device, "\", expected cpu or cuda");
  bool generate = o.generate_users > 0 || o.generate_items > 0 || o.generate_interactions > 0;
  if (generate == !o.data.empty()) fail("bench train: expected either --data DIR or --generate users,items,interactions");
  fs::create_directories(o.work_dir);
  MachineInfo before = machine_info();
  out << "command: " << o.command_line << "\n";
  out << "machine: " << before.cpu_model << ", " << before.cores << " cores; " << load_text(before) << " at start\n";

  fs::path data_dir = generate ? generate_and_prepare(o, out) : o.data;
  std::vector<std::string> overrides = o.overrides;
  overrides.push_back("data.data_path=" + data_dir.string());
  Config config = load_config(o.config, overrides);
  Dataset data = load_dataset(data_dir, ItemText::kSkip);
  int64_t training_rows = 0;
  for (Split s : data.interactions.split) training_rows += s != Split::kTest ? 1 : 0;
  check_trace_fits(o, options.trace_steps > 0, training_rows, config.training.batch_size, out);
  const int64_t text_dim = config.data.emb_dim;
  int64_t params = parameter_count(config.model, data.num_users(), data.num_items(),
                                   static_cast<int64_t>(data.items.category_vocab.size()),
                                   static_cast<int64_t>(data.items.brand_vocab.size()), text_dim);
  out << "data: " << data_dir.string() << ": " << thousands(static_cast<double>(data.num_users())) << " users, "
      << thousands(static_cast<double>(data.num_items())) << " items, " << thousands(static_cast<double>(training_rows))
      << " training interactions (train + valid, as the reference trains)\n";
  out << "model: " << thousands(static_cast<double>(params)) << " parameters ("
      << fixed(static_cast<double>(params) * 4 / 1048576.0, 1) << " MiB fp32; with Adam's two moments "
      << fixed(static_cast<double>(params) * 12 / 1048576.0, 1) << " MiB); twotower embedding optimizer "
      << to_string(config.training.embedding_optimizer) << ", reference dense Adam\n";
  std::vector<std::string> diff = departures(config);
  if (!diff.empty()) {
    std::string list;
    for (const auto& d : diff) list += (list.empty() ? "" : ", ") + d;
    out << "warning: the reference cannot run this config's " << list << "; it runs its own values\n";
  }

  fs::path inter = o.work_dir / "bench.inter";
  std::vector<int64_t> first_seen = write_inter(data, inter);
  fs::path text;
  if (!config.data.text_embeddings.empty()) {
    Matrix all = read_text_embeddings(config.data.text_embeddings, config.data.text_embeddings_column, data.item_ids);
    Matrix ordered;
    ordered.rows = static_cast<int64_t>(first_seen.size());
    ordered.cols = all.cols;
    ordered.data.resize(static_cast<size_t>(ordered.rows * ordered.cols));
    for (size_t r = 0; r < first_seen.size(); ++r) {
      std::copy_n(all.data.begin() + first_seen[r] * all.cols, all.cols,
                  ordered.data.begin() + static_cast<int64_t>(r) * all.cols);
    }
    text = o.work_dir / "reference_text.npy";
    write_npy(ordered, text);
  }
  // The bench's own copies are released before the children run (they do not count in their RSS anyway).
  data = Dataset();

  // Alternating rounds: the machine's speed drifts (the GEMM rate moved between 74 and 147
  // GFLOP/s across runs here), so each round's ratio compares runs made next to each other.
  std::vector<SystemResult> our_rounds, ref_rounds;
  std::vector<double> gemm_rounds, onednn_rounds, ratio_rounds;
  const PairFlops flops = pair_flops(config.model, text_dim);
  for (int round = 1; round <= o.rounds; ++round) {
    our_rounds.push_back(run_twotower(o, data_dir, out));
    ref_rounds.push_back(run_reference(o, config, inter, text, out));
    ratio_rounds.push_back(our_rounds.back().pairs_per_s / ref_rounds.back().pairs_per_s);
    out << "round " << round << "/" << o.rounds << ": twotower " << thousands(our_rounds.back().pairs_per_s)
        << " pairs/s, reference " << thousands(ref_rounds.back().pairs_per_s) << " pairs/s";
    if (o.device == "cpu") {  // the CPU's GEMM rate; a GPU run has no CPU bound to compare with
      gemm_rounds.push_back(measure_gemm_gflops(o.threads, CpuMatmul::kTorch));
      onednn_rounds.push_back(measure_gemm_gflops(o.threads, CpuMatmul::kOneDnn));
      out << ", gemm " << fixed(gemm_rounds.back(), 1) << " GFLOP/s, onednn " << fixed(onednn_rounds.back(), 1) << " GFLOP/s";
    }
    if (o.trace_steps > 0) {
      out << ", kernel share twotower " << kernel_text(our_rounds.back()) << ", reference " << kernel_text(ref_rounds.back());
    }
    out << ", ratio " << fixed(ratio_rounds.back(), 2) << "\n" << std::flush;
  }
  const int64_t k = config.data.neg_ratio;
  MedianTable table{median_result(our_rounds), median_result(ref_rounds), static_cast<double>(training_rows * (1 + k)),
                    flops, gemm_rounds.empty() ? 0 : median(gemm_rounds),
                    onednn_rounds.empty() ? 0 : median(onednn_rounds)};
  print_medians(o, table, out);
  out << "pairs/s are of epoch " << kWarmupEpochs + 1 << " (epoch 1 warms up); " << load_text(machine_info()) << " at end\n";
  out << "ratio " << fixed(median(ratio_rounds), 2) << "\n";
}

}  // namespace twotower

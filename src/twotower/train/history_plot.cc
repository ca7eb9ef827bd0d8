#include "twotower/train/history_plot.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "twotower/common/log.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

double value_of(const nlohmann::json& record, const std::string& key) {
  auto it = record.find(key);
  return it != record.end() && it->is_number() ? it->get<double>() : NAN;
}

// A gnuplot single-quoted string: only the quote itself needs escaping there (doubled).
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

}  // namespace

std::string history_plot_script(size_t epochs, const std::vector<std::string>& metrics, const fs::path& dat,
                                const fs::path& png, const std::string& train_loss, bool val_loss) {
  const std::string train_label = train_loss.empty() ? "train loss" : "train loss (" + train_loss + ")";
  const std::string val_label = "validation BCE (positives only)";
  std::ostringstream out;
  // noenhanced: metric names such as ndcg@10 are text, not markup.
  out << "set terminal pngcairo noenhanced size 900," << (metrics.empty() ? 450 : 800) << " font 'sans,10'\n"
      << "set output " << quoted(png.string()) << "\n"
      << "set datafile missing 'NaN'\n"
      << "set key outside right top\nset grid\nset xlabel 'epoch'\nset xtics 1\n"
      << "set xrange [0.5:" << static_cast<double>(epochs) + 0.5 << "]\n";
  if (!metrics.empty()) out << "set multiplot layout 2,1\n";
  out << "set title 'loss'\n"
      << "set ylabel " << quoted(train_label) << "\nset ytics nomirror\n";
  if (val_loss) out << "set y2label " << quoted(val_label) << "\nset y2tics\n";
  out << "plot " << quoted(dat.string()) << " using 1:2 axes x1y1 with linespoints title " << quoted(train_label);
  if (val_loss) out << ", '' using 1:3 axes x1y2 with linespoints title " << quoted(val_label);
  out << "\n";
  if (!metrics.empty()) {
    out << "set title 'validation metrics'\nset ylabel ''\nunset y2label\nunset y2tics\nset ytics mirror\nplot ";
    for (size_t k = 0; k < metrics.size(); ++k) {
      out << (k ? ", " : "") << quoted(dat.string()) << " using 1:" << (k + 4) << " with linespoints title "
          << quoted(metrics[k]);
    }
    out << "\nunset multiplot\n";
  }
  return out.str();
}

bool plot_history(const nlohmann::json& epochs, const std::vector<std::string>& metrics, const fs::path& png,
                  const std::string& train_loss) {
  fs::path dat = png, gp = png;
  dat.replace_extension(".dat");
  gp.replace_extension(".gp");
  std::vector<std::string> columns{"epoch", "train_loss", "val_loss"};
  columns.insert(columns.end(), metrics.begin(), metrics.end());
  {
    std::ofstream out(dat);
    out << '#';
    for (const auto& c : columns) out << ' ' << c;
    out << '\n';
    for (const auto& record : epochs) {
      for (size_t i = 0; i < columns.size(); ++i) {
        double v = value_of(record, columns[i]);
        out << (i ? "\t" : "");
        if (std::isfinite(v)) {
          out << v;
        } else {
          out << "NaN";
        }
      }
      out << '\n';
    }
  }
  bool any_val_loss = false;
  for (const auto& record : epochs) any_val_loss = any_val_loss || std::isfinite(value_of(record, "val_loss"));
  {
    std::ofstream out(gp);
    out << history_plot_script(epochs.size(), metrics, dat, png, train_loss, any_val_loss);
  }
  // gnuplot's messages go to a file, shown only when the plot fails: a successful plot's
  // warnings (one epoch's single point is an "empty y range" it widens itself) are not news.
  const fs::path messages = fs::path(gp).replace_extension(".gnuplot.log");
  std::string command = "gnuplot '" + gp.string() + "' > '" + messages.string() + "' 2>&1";
  if (std::system(command.c_str()) != 0 || !fs::exists(png)) {
    std::ifstream in(messages);
    const std::string said((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    log_warn("training_history.png not drawn: `", command, "` failed (is gnuplot installed?): ", said);
    return false;
  }
  std::error_code ignored;
  fs::remove(messages, ignored);
  return true;
}

}  // namespace twotower

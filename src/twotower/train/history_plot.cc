#include "twotower/train/history_plot.h"

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "twotower/common/log.h"

namespace fs = std::filesystem;

namespace twotower {
namespace {

double value_of(const nlohmann::json& record, const std::string& key) {
  auto it = record.find(key);
  return it != record.end() && it->is_number() ? it->get<double>() : NAN;
}

}  // namespace

bool plot_history(const nlohmann::json& epochs, const std::vector<std::string>& metrics, const fs::path& png) {
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
  {
    std::ofstream out(gp);
    out << "set terminal pngcairo size 900," << (metrics.empty() ? 450 : 800) << " font 'sans,10'\n"
        << "set output '" << png.string() << "'\n"
        << "set datafile missing 'NaN'\n"
        << "set key outside right top\nset grid\nset xlabel 'epoch'\nset xtics 1\n"
        << "set xrange [0.5:" << static_cast<double>(epochs.size()) + 0.5 << "]\n";
    if (!metrics.empty()) out << "set multiplot layout 2,1\n";
    out << "set title 'loss'\nset ylabel 'BCE'\n"
        << "plot '" << dat.string() << "' using 1:2 with linespoints title 'train', '' using 1:3 with linespoints "
        << "title 'validation (positives)'\n";
    if (!metrics.empty()) {
      out << "set title 'validation metrics'\nset ylabel ''\nplot ";
      for (size_t k = 0; k < metrics.size(); ++k) {
        out << (k ? ", " : "") << "'" << dat.string() << "' using 1:" << (k + 4) << " with linespoints title '"
            << metrics[k] << "'";
      }
      out << "\nunset multiplot\n";
    }
  }
  std::string command = "gnuplot '" + gp.string() + "' 2>&1";
  if (std::system(command.c_str()) != 0 || !fs::exists(png)) {
    log_warn("training_history.png not drawn: `", command, "` failed (is gnuplot installed?)");
    return false;
  }
  return true;
}

}  // namespace twotower

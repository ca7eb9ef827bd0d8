#include "twotower/train/history_plot.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "test_util.h"

namespace twotower {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// gnuplot's enhanced text would read "@" and "_" as markup (ndcg@10 drawn as "ndcg0"): the script
// turns it off, so names are drawn as written; a quote in a name is doubled inside '...'.
TEST(HistoryPlot, NamesAreDrawnAsWritten) {
  const std::string gp = history_plot_script(3, {"ndcg@10", "recall_at_10", "it's"}, "/r/h.dat", "/r/h.png", "softmax");
  EXPECT_TRUE(contains(gp, "set terminal pngcairo noenhanced ")) << gp;
  EXPECT_TRUE(contains(gp, "using 1:4 with linespoints title 'ndcg@10'")) << gp;
  EXPECT_TRUE(contains(gp, "using 1:5 with linespoints title 'recall_at_10'")) << gp;
  EXPECT_TRUE(contains(gp, "using 1:6 with linespoints title 'it''s'")) << gp;
  EXPECT_TRUE(contains(gp, "set output '/r/h.png'\n")) << gp;
  EXPECT_TRUE(contains(gp, "set xrange [0.5:3.5]\n")) << gp;
  EXPECT_TRUE(contains(gp, "set multiplot layout 2,1\n")) << gp;
}

// The train loss (training.loss) and the validation loss (BCE of the positives alone) are
// different quantities: each has its own axis and a label saying which it is.
TEST(HistoryPlot, EachLossOnItsOwnLabelledAxis) {
  const std::string gp = history_plot_script(2, {}, "h.dat", "h.png", "softmax");
  EXPECT_TRUE(contains(gp, "set ylabel 'train loss (softmax)'\n")) << gp;
  EXPECT_TRUE(contains(gp, "set y2label 'validation BCE (positives only)'\n")) << gp;
  EXPECT_TRUE(contains(gp, "'h.dat' using 1:2 axes x1y1 with linespoints title 'train loss (softmax)'")) << gp;
  EXPECT_TRUE(contains(gp, "'' using 1:3 axes x1y2 with linespoints title 'validation BCE (positives only)'")) << gp;
  EXPECT_FALSE(contains(gp, "'BCE'")) << gp;
  EXPECT_FALSE(contains(gp, "multiplot")) << gp;  // no metrics: the loss panel alone
  EXPECT_TRUE(contains(history_plot_script(2, {}, "h.dat", "h.png", ""), "set ylabel 'train loss'\n"));
}

// The data file has one row per epoch and one column per series; a missing or non-numeric value
// is NaN (gnuplot skips it). The script sits beside it; the image exists whenever gnuplot ran.
TEST(HistoryPlot, WritesDataScriptAndImage) {
  testing::TempDir dir;
  const nlohmann::json epochs = {{{"epoch", 1}, {"train_loss", 2.5}, {"val_loss", 0.75}, {"ndcg@10", 0.125}},
                                 {{"epoch", 2}, {"train_loss", 1.5}, {"val_loss", 0.5}, {"ndcg@10", "n/a"}}};
  const bool drawn = plot_history(epochs, {"ndcg@10"}, dir / "h.png", "softmax");
  EXPECT_EQ(testing::read_file(dir / "h.dat"),
            "# epoch train_loss val_loss ndcg@10\n"
            "1\t2.5\t0.75\t0.125\n"
            "2\t1.5\t0.5\tNaN\n");
  EXPECT_EQ(testing::read_file(dir / "h.gp"),
            history_plot_script(2, {"ndcg@10"}, dir / "h.dat", dir / "h.png", "softmax"));
  EXPECT_EQ(drawn, std::filesystem::exists(dir / "h.png"));
}

// A run that trains on its validation split (a refit's final run) has no validation loss: the
// loss panel plots the train loss alone, and gnuplot draws it (it refuses an axis with no point).
TEST(HistoryPlot, WithoutValidationLossPlotsTheTrainLossAlone) {
  testing::TempDir dir;
  const nlohmann::json epochs = {{{"epoch", 1}, {"train_loss", 2.5}, {"val_loss", nullptr}}};
  const bool drawn = plot_history(epochs, {}, dir / "h.png", "full");
  const std::string gp = testing::read_file(dir / "h.gp");
  EXPECT_EQ(gp, history_plot_script(1, {}, dir / "h.dat", dir / "h.png", "full", false));
  EXPECT_EQ(gp.find("y2"), std::string::npos) << gp;
  if (std::system("gnuplot --version > /dev/null 2>&1") == 0) {
    EXPECT_TRUE(drawn);
  }
  EXPECT_EQ(drawn, std::filesystem::exists(dir / "h.png"));
}

}  // namespace
}  // namespace twotower

"""Community: provider directories, model feedback and leaderboard, contribution offers."""

"""The emulator sweep sampler: Azure ML search spaces and sampling algorithms on Optuna."""

"""The pipeline: pure, synchronous steps from fetched bytes to stories. Imports only bot.core."""

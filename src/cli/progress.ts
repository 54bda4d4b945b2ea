// A training progress bar on stderr (cli-progress), drawn only when stderr is a terminal.
import cliProgress from 'cli-progress';

export function progressBar(total: number, enabled: boolean, label = 'training') {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} |{bar}| {percentage}% | epoch {epoch} | loss {loss}`,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    tick(epoch: number, loss: number) {
      if (!enabled) return;
      if (!started) {
        bar.start(total, 0, { epoch: 1, loss: '-' });
        started = true;
      }
      bar.increment(1, { epoch: epoch + 1, loss: loss.toFixed(4) });
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

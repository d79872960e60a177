"""The short user guide shown by Help ▸ User Guide (F1), as Markdown. docs/user-guide.md holds the same text (a test
keeps the two identical); edit both together."""

USER_GUIDE = """\
# ImageStudio user guide

## Open a photo
**File ▸ Open** (Ctrl+O), drop a file on the window, or pick one from **File ▸ Open Recent**. JPEG, PNG, WebP,
TIFF, BMP and GIF open everywhere; HEIC/HEIF and AVIF (what phones write) open when the `pillow-heif` plugin is
installed, which ImageStudio installs with itself. Colour profile and EXIF are kept.

If a job is running when you open a file, ImageStudio asks whether to open it when the job has finished or to
stop the job and open it now.

## Improve it
The toolbar and the **Enhance** menu: **Enhance** (Ctrl+E: brightens if dark, denoises if noisy, upscales ×2),
**Upscale ×2 / ×4**, **Denoise**, **Low light**. The small arrow beside each button opens its options: the model,
the strength, the device (CPU or an NVIDIA GPU), and a live preview: before and after of the middle of what you see
on the canvas (up to 512 × 512 pixels), redone as you change the strength or the model, without touching the
photo. **Run** applies it. Every edit is one entry in **History**; click an entry to go back to it, or use Undo
(Ctrl+Z) and Redo (Ctrl+Shift+Z).

While an edit runs, the status bar shows what is running, how far it is (percent), how long it has taken and about
how long is left; **Cancel** stops it and leaves the image as it was.

## Compare before and after
After the first edit a divider appears on the image: the photo as opened on its left, the edited one on its right.
Drag the round handle to move it. The **Compare** toolbar switches between:

- **Split** (C): the divider.
- **A/B** (\\\\): the whole view flips to the original while it is on.
- **Side by side** (V): both next to each other, zoomed and panned together.
- **Difference** (X): what the edit changed, amplified four times; black means unchanged.

Click the lit button again to turn comparing off. Each newly opened image starts with the divider in the middle.

## Save without losing the original
ImageStudio never writes over the photo you opened unless you say so twice:

- The first **Save** (Ctrl+S) of an opened photo asks for a name, proposing `<name>_edited.<ext>` beside the
  original. Later saves go to the file you chose.
- If you pick the original's own name, a separate question asks whether to overwrite it, and says when the format
  (JPEG, WebP) re-encodes the image and loses detail.
- **Export a Copy** (Ctrl+Alt+E) writes a copy without changing where Save writes.
- Closing, quitting or opening another image with unsaved changes asks first; **Save…** there saves the same way,
  then carries on with what you were doing.

If ImageStudio stops unexpectedly, the next start offers to restore the unsaved image and its history.

## Gallery
**Window ▸ Gallery** (Ctrl+Shift+G) opens the Gallery beside the canvas: **Generate** draws new images from the
project's small generative model (emoji-like faces), **More like this** and **Variations** make images near the
selected one, **Blend** makes a strip between two. New results are selected and scrolled into view. **Open in
canvas** opens the selected image as a new untitled document; your photo is not touched. Variations work on
gallery images only: the model knows that small world, not photos.

## Batch
**Window ▸ Batch** (Ctrl+Shift+B) runs a whole folder through a pipeline (a named one, the current image's history,
or a preset saved from the History panel) into an output folder. **Preview** lists what will happen, **Run**
processes in the background while you keep editing, Pause and Cancel stop between files, and a rerun resumes where
the last one stopped. Inputs are never overwritten. The folders and options are remembered for next time.

## Models
The **Models** tab (beside History) lists the installed models with a short card; **Full card…** shows everything
(training data, licence, metrics, file and SHA-256). **Add model…** installs an ONNX model file for your user after
checking it.

## Keys
**Help ▸ Keyboard Shortcuts** (Ctrl+/) lists every shortcut, read from the menus themselves.
"""

/** Hands a file to the browser to save, as a download named `name`. */
export function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  // Freed once the browser has surely read it (revoking at once can cancel the download).
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Hands a file made in the page to the browser as a download (Export buttons). */
export function downloadFile({ fileName, blob }: { fileName: string; blob: Blob }): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.click();
  // Revoked later, not at once: the browser may still be reading the URL for the download.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

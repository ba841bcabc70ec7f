import { ApiError, api } from './client';
import type { FileInfo, Id } from './types';

export interface UploadHandle {
  promise: Promise<FileInfo>;
  abort: () => void;
}

/**
 * Uploads one file with XMLHttpRequest, because fetch cannot report upload progress.
 * Retries once after a token refresh when the server answers 401.
 */
export function uploadFile(file: File, workspaceId: Id, onProgress: (fraction: number) => void): UploadHandle {
  let xhr: XMLHttpRequest | null = null;
  let aborted = false;

  const attempt = async (): Promise<{ status: number; body: string }> => {
    const token = await api.accessToken();
    return new Promise((resolve, reject) => {
      if (aborted) return reject(new ApiError(0, 'aborted', 'Upload cancelled.'));
      const form = new FormData();
      form.append('workspace_id', workspaceId);
      form.append('file', file, file.name);
      xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/v1/files');
      if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(e.loaded / e.total);
      };
      xhr.onload = () => resolve({ status: xhr!.status, body: xhr!.responseText });
      xhr.onerror = () => reject(new ApiError(0, 'network_error', 'Upload failed: cannot reach the server.'));
      xhr.onabort = () => reject(new ApiError(0, 'aborted', 'Upload cancelled.'));
      xhr.send(form);
    });
  };

  const promise = (async () => {
    let result = await attempt();
    if (result.status === 401 && (await api.refresh())) result = await attempt();
    let json: unknown;
    try {
      json = result.body ? JSON.parse(result.body) : undefined;
    } catch {
      json = undefined;
    }
    if (result.status >= 200 && result.status < 300) {
      onProgress(1);
      return json as FileInfo;
    }
    const err = (json as { error?: { code: string; message: string } } | undefined)?.error;
    throw new ApiError(
      result.status,
      err?.code ?? `http_${result.status}`,
      err?.message ?? (result.status === 413 ? 'That file is too large.' : 'Upload failed.'),
    );
  })();

  return {
    promise,
    abort: () => {
      aborted = true;
      xhr?.abort();
    },
  };
}

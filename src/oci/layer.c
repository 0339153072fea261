/* Layer writing: being written (see layer.h). */
#include "oci/layer.h"

#include <errno.h>

int wb_layer_writer_open(wb_images *s, wb_layer_writer **out, wb_error *err) {
    *out = NULL;
    return wb_error_set(err, ENOSYS, "writing layers is being written");
}

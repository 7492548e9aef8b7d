// The guest side of `mmsim verify`: PID 1 of the initramfs, a line-oriented command agent on the
// second serial port, and the report the host asks for after every step (normalised
// /proc/zoneinfo fields, the memory lines of dmesg, memory blocks, /proc/iomem's memory entries).

/** /init: mount, load the hotplug / nvdimm / dax / virtio-mem modules in dependency order, run the agent. */
export const GUEST_INIT = `#!/bin/busybox sh
export PATH=/bin:/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
for ko in $(cat /etc/modules.order); do insmod "$ko" 2>&1 | sed 's/^/mmsim-init: insmod: /'; done
echo "mmsim-init: modules loaded"
/bin/mmsim-agent /dev/ttyS1
sync
poweroff -f
`;

/**
 * The agent: the host writes one shell command per line; the agent answers with its output
 * (stdout and stderr) then a line "@@DONE <exit code>". It starts by printing "@@AGENT-READY".
 */
export const GUEST_AGENT = `#!/bin/sh
TTY=\${1:-/dev/ttyS1}
stty -F "$TTY" raw -echo
exec 3<>"$TTY"
echo "@@AGENT-READY" >&3
while IFS= read -r line <&3; do
  [ "$line" = "@@EXIT" ] && { echo "@@DONE 0" >&3; break; }
  sh -c "$line" >&3 2>&1 </dev/null
  printf '\\n@@DONE %d\\n' $? >&3
done
`;

/** The report: sections the host parses (=== zoneinfo, === blocks, === iomem). */
export const GUEST_REPORT = `#!/bin/sh
echo "=== zoneinfo"
awk '/^Node/ {print; next} /^ *(spanned|present|managed) / {print; next} /^ *start_pfn:/ {print}' /proc/zoneinfo
echo "=== blocks"
for i in $(ls /sys/devices/system/memory | sed -n 's/^memory\\([0-9][0-9]*\\)$/\\1/p' | sort -n); do
  d=/sys/devices/system/memory/memory$i
  n=$(ls -d $d/node* 2>/dev/null | sed 's|.*/node||')
  printf 'memory%s state=%s phys_index=%s node=%s valid_zones=%s\\n' "$i" "$(cat $d/state)" "$(cat $d/phys_index)" "$n" "$(cat $d/valid_zones 2>/dev/null)"
done
echo "=== iomem"
grep -iE 'System RAM|Persistent|dax|kmem|virtio' /proc/iomem
echo "=== end"
`;

/**
 * Modules the guest loads (with their dependencies). qemu_fw_cfg (a module in Debian's 6.1 and
 * 6.12, not built in) hands the kernel's VMCOREINFO to QEMU's vmcoreinfo device, so that
 * dump-guest-memory writes it into the dump.
 */
export const GUEST_MODULES = ['nfit', 'nd_pmem', 'nd_btt', 'dax_pmem', 'device_dax', 'kmem', 'virtio_mem', 'virtio_pci', 'qemu_fw_cfg'];

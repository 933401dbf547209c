# Site set-up for the glassmd job scripts (slurm/glassmd.sbatch,
# slurm/scaling.sbatch), sourced by bash before glassmd starts. Put here
# what your cluster needs to find glassmd's MPI and HDF5 at run time:
# the same modules glassmd was built with (docs/CLUSTER.md).
#
# The scripts source the first of: $GLASSMD_SITE, this file (site.sh
# beside the submitted script), ~/.config/glassmd/site.sh. This copy changes
# nothing; edit it, or copy it to ~/.config/glassmd/site.sh and edit that.
#
# Examples (names differ by site; `module avail` lists them):
#   module purge
#   module load gcc/12.2.0 openmpi/4.1.5 hdf5/1.12.2
#   export GLASSMD=$HOME/glassmd/target/release/glassmd
#   export GLASSMD_SRUN_MPI=pmi2        # if your MPI was built for PMI-2, not PMIx
#   export OMP_NUM_THREADS=1            # glassmd threads are rayon's, not OpenMP's
true
